"""``conformance check-adapter MODULE:CLASS``: an adapter checked against the contract before any case runs.

Checks, in order, each with a line of output: the class imports and is a :class:`StackAdapter`; the contract rules
of :func:`~conformance.stacks.base.check_adapter` (name, tier, capability names, missing reasons, abstract methods,
expectations file, and the entry-point name when the adapter is registered); the stack is available here and reads
a version; an endpoint of each role it declares can be made and closed, and it implements every method of the
endpoint contract. Exit status 0 when everything holds, 1 otherwise.
"""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import entry_points
from typing import TextIO

from conformance.outcome import Role
from conformance.stacks.base import (
    Capability,
    Endpoint,
    EndpointConfig,
    StackAdapter,
    StackUnavailable,
    Unsupported,
    check_adapter,
)

__all__ = ["check_adapter_target"]

_ENDPOINT_METHODS = ("do_handshake", "read", "write", "shutdown", "take_outgoing", "outgoing_pending",
                     "put_incoming", "put_eof", "close")


def _registered_name(target: str) -> str | None:
    for ep in entry_points(group="conformance.stacks"):
        if ep.value == target:
            return ep.name
    return None


def check_adapter_target(target: str, out: TextIO = sys.stdout) -> int:
    """Check the adapter ``target`` (``module:Class``, or a registered stack name); 0 if it keeps the contract."""
    problems: list[str] = []

    def report(ok: bool, text: str) -> None:
        print(f"{'ok  ' if ok else 'FAIL'} {text}", file=out)
        if not ok:
            problems.append(text)

    if ":" not in target:  # a registered name
        matches = [ep for ep in entry_points(group="conformance.stacks") if ep.name == target]
        if not matches:
            report(False, f"no stack registered as {target!r}; give MODULE:CLASS")
            return 1
        target = matches[0].value
    module_name, _, attr = target.partition(":")
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")  # an adapter under development, next to where the command runs
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        report(False, f"import {target}: {type(exc).__name__}: {exc}")
        return 1
    if not (isinstance(cls, type) and issubclass(cls, StackAdapter)):
        report(False, f"{target} is not a subclass of conformance.stacks.StackAdapter")
        return 1
    try:
        adapter = cls()
    except Exception as exc:  # the adapter's own constructor failed
        report(False, f"{target}(): {type(exc).__name__}: {exc}")
        return 1
    report(True, f"{target} is a StackAdapter named {adapter.name!r} ({adapter.tier} tier)")
    registered = _registered_name(target)
    for problem in check_adapter(adapter, registered_as=registered):
        report(False, problem)
    if not problems:
        report(True, "name, tier, capabilities, missing reasons and expectations file keep the contract"
                     + (f" (registered as {registered!r})" if registered else " (not registered yet)"))
    try:
        adapter.check_available()
        report(True, f"available here, version {adapter.version()!r}")
    except StackUnavailable as exc:
        report(False, f"not available here: {exc}")
        return 1
    for role, capability in ((Role.CLIENT, Capability.CLIENT_ROLE), (Role.SERVER, Capability.SERVER_ROLE)):
        if capability not in adapter.capabilities:
            continue
        try:
            endpoint = adapter.endpoint(EndpointConfig(role=role, verify_peer=role is Role.CLIENT), f"check {role}")
        except Unsupported as exc:
            report(False, f"the default {role} configuration is refused: {exc}")
            continue
        except Exception as exc:
            report(False, f"endpoint({role}) raised {type(exc).__name__}: {exc}")
            continue
        try:
            missing = [m for m in _ENDPOINT_METHODS if m in getattr(type(endpoint), "__abstractmethods__", ())]
            ok = isinstance(endpoint, Endpoint) and not missing
            report(ok, f"a {role} endpoint: {type(endpoint).__name__}" + (f" lacks {', '.join(missing)}"
                                                                             if missing else ""))
        finally:
            endpoint.close()
    print(f"{'adapter keeps the contract' if not problems else f'{len(problems)} problem(s)'}", file=out)
    return 1 if problems else 0
