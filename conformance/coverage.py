"""Which clauses the cases check: read from the ``clauses`` marks of the case functions, without running them."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any

__all__ = ["CaseRef", "case_clauses"]


@dataclass(frozen=True)
class CaseRef:
    module: str
    name: str
    clauses: tuple[str, ...]
    needs: tuple[str, ...]
    states: tuple[str, ...] = ()  # the connection states the case declares (``@pytest.mark.states``)


def _module_marks(module: object) -> list[Any]:
    marks = getattr(module, "pytestmark", [])
    return list(marks) if isinstance(marks, (list, tuple)) else [marks]


def case_clauses(package: str = "specs.cases") -> list[CaseRef]:
    """Every case function (``test_*``) of the package's modules with the clause ids, capabilities and states it
    names."""
    pkg = importlib.import_module(package)
    refs: list[CaseRef] = []
    for info in pkgutil.iter_modules(pkg.__path__, prefix=f"{package}."):
        module = importlib.import_module(info.name)
        for name, obj in sorted(vars(module).items()):
            if not name.startswith("test_") or not callable(obj) or getattr(obj, "__module__", None) != info.name:
                continue
            clauses: list[str] = []
            needs: list[str] = []
            states: list[str] = []
            for mark in [*getattr(obj, "pytestmark", []), *_module_marks(module)]:
                if mark.name == "clauses":
                    clauses += [str(a) for a in mark.args]
                elif mark.name == "needs":
                    needs += [str(a) for a in mark.args]
                elif mark.name == "states":
                    states += [str(a) for a in mark.args]
                elif mark.name == "parametrize" and len(mark.args) > 1:  # marks of single parameters count too
                    for value in mark.args[1]:
                        for inner in getattr(value, "marks", ()):
                            if inner.name == "clauses":
                                clauses += [str(a) for a in inner.args]
                            elif inner.name == "states":
                                states += [str(a) for a in inner.args]
            refs.append(CaseRef(info.name, name, tuple(dict.fromkeys(clauses)), tuple(needs),
                                tuple(dict.fromkeys(states))))
    return refs
