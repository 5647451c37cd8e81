"""Helpers shared by the adapters whose library writes into an unbounded memory BIO."""

from __future__ import annotations

__all__ = ["VERSIONS", "bounded_take"]

VERSIONS = ("TLSv1.2", "TLSv1.3")


def bounded_take(buffer: bytearray, limit: int | None) -> bytes:
    """Remove and return up to ``limit`` bytes from the front of ``buffer``."""
    n = len(buffer) if limit is None else min(limit, len(buffer))
    data = bytes(buffer[:n])
    del buffer[:n]
    return data
