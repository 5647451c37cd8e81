"""Stack adapters, found through the ``conformance.stacks`` entry-point group.

The built-in adapters are registered in this project's ``pyproject.toml`` exactly as a third party registers its
own::

    [project.entry-points."conformance.stacks"]
    mystack = "my_package.adapter:MyStack"
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points

from conformance.stacks.base import (
    CAPABILITIES,
    Capability,
    Endpoint,
    EndpointConfig,
    StackAdapter,
    StackUnavailable,
    Unsupported,
    check_adapter,
)

__all__ = [
    "CAPABILITIES",
    "Capability",
    "Endpoint",
    "EndpointConfig",
    "StackAdapter",
    "StackInfo",
    "StackUnavailable",
    "Unsupported",
    "check_adapter",
    "discover",
    "load_stack",
]

GROUP = "conformance.stacks"


@dataclass(frozen=True)
class StackInfo:
    name: str
    target: str  # "module:Class"
    adapter: StackAdapter | None
    problem: str  # why it cannot be used here ("" when installed)

    @property
    def installed(self) -> bool:
        return self.adapter is not None and not self.problem


def _instantiate(name: str, target: str) -> StackInfo:
    matches = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    try:
        cls = matches[0].load()
        adapter = cls()
        if not isinstance(adapter, StackAdapter):
            return StackInfo(name, target, None, f"{target} is not a conformance.stacks.StackAdapter")
        problems = check_adapter(adapter, registered_as=name)
        if problems:  # a broken contract is reported before anything runs, not discovered by a failing case
            return StackInfo(name, target, None, f"{target} breaks the adapter contract: {'; '.join(problems)}")
        adapter.check_available()
    except StackUnavailable as exc:
        return StackInfo(name, target, None, str(exc))
    except Exception as exc:  # a broken third-party adapter must not take the listing down
        return StackInfo(name, target, None, f"loading {target} failed: {type(exc).__name__}: {exc}")
    return StackInfo(name, target, adapter, "")


def discover() -> dict[str, StackInfo]:
    """Every registered stack, installed or not, by name."""
    found: dict[str, StackInfo] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        if ep.name not in found:
            found[ep.name] = _instantiate(ep.name, ep.value)
    return found


def _from_import_path(target: str) -> StackAdapter:
    import importlib

    module_name, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise StackUnavailable(f"cannot import stack adapter {target!r}: {exc}") from exc
    adapter = cls()
    if not isinstance(adapter, StackAdapter):
        raise StackUnavailable(f"{target} is not a conformance.stacks.StackAdapter subclass")
    problems = check_adapter(adapter)
    if problems:
        raise StackUnavailable(f"{target} breaks the adapter contract: {'; '.join(problems)}")
    adapter.check_available()
    return adapter


def load_stack(name: str) -> StackAdapter:
    """The adapter registered under ``name``, or imported from ``module:Class`` (an adapter under development,
    not yet registered), or an OpenSSL-ABI library given as ``libssl:PATH/TO/libssl.so[,PATH/TO/libcrypto.so]``;
    a clear error if it is unknown or not usable here."""
    if name.startswith("libssl:"):  # an OpenSSL-ABI library by path
        from conformance.stacks.libssl import OpenSSLAbiStack

        adapter = OpenSSLAbiStack(name)
        adapter.check_available()
        return adapter
    if ":" in name:
        return _from_import_path(name)
    stacks = discover()
    if name not in stacks:
        raise StackUnavailable(f"no stack named {name!r}; registered stacks: {', '.join(stacks) or 'none'}")
    info = stacks[name]
    if info.adapter is None or info.problem:
        raise StackUnavailable(f"stack {name!r} is registered but not usable here: {info.problem}")
    return info.adapter
