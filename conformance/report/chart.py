"""The benchmark's figures (``REPORT/benchmark.json``, written by ``benchmarks/run.py --json``) as a small inline
SVG: one bar chart of handshakes per second and one of bulk MiB/s, a bar per stack."""

from __future__ import annotations

import html
from typing import Any

__all__ = ["benchmark_svg"]

_BAR = 16
_LABEL = 80
_WIDTH = 250


def _chart(title: str, values: list[tuple[str, float]], x0: int, unit: str) -> list[str]:
    top = max((v for _, v in values), default=0.0) or 1.0
    out = [f'<text x="{x0}" y="14" font-weight="bold">{html.escape(title)}</text>']
    for i, (name, value) in enumerate(values):
        y = 24 + i * (_BAR + 6)
        width = max(1.0, _WIDTH * value / top)
        out.append(f'<text x="{x0 + _LABEL - 4}" y="{y + 12}" text-anchor="end">{html.escape(name)}</text>')
        out.append(f'<rect x="{x0 + _LABEL}" y="{y}" width="{width:.1f}" height="{_BAR}" fill="#5b8def">'
                   f"<title>{html.escape(name)}: {value:.1f} {unit}</title></rect>")
        out.append(f'<text x="{x0 + _LABEL + width + 4:.1f}" y="{y + 12}">{value:,.1f}</text>')
    return out


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def benchmark_svg(stacks: dict[str, Any]) -> str:
    """An SVG element (a string) charting ``stacks``: ``{name: {"handshakes_per_s", "bulk_mib_per_s"}}``."""
    names = sorted(n for n, d in stacks.items() if isinstance(d, dict))
    hs = [(n, _number(stacks[n].get("handshakes_per_s"))) for n in names]
    bulk = [(n, _number(stacks[n].get("bulk_mib_per_s"))) for n in names]
    half = _LABEL + _WIDTH + 60
    height = 30 + len(names) * (_BAR + 6)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{2 * half}" height="{height}" '
             f'viewBox="0 0 {2 * half} {height}" font-size="12" font-family="system-ui, sans-serif" role="img" '
             'aria-label="benchmark: handshakes per second and bulk MiB/s per stack">']
    parts += _chart("TLS 1.3 handshakes/s", hs, 0, "handshakes/s")
    parts += _chart("bulk MiB/s", bulk, half, "MiB/s")
    parts.append("</svg>")
    return "".join(parts)
