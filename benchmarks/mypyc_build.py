"""Compile the engine's modules with mypyc into a scratch tree: the compiled-core experiment (docs/compiled-core.md).

The engine's sources are copied to ``OUT/<package>/`` (the working tree is never touched), a ``mypy.ini`` with the
project's strict settings is written beside them, and the chosen modules are compiled in place with mypyc and gcc;
the other modules stay Python. Put ``OUT`` first on ``PYTHONPATH`` to use the compiled engine: it then shadows the
editable install's ``engine`` (the conformance harness, the tests and the benchmarks still come from the worktree).

``--package cengine`` builds the copy under another name (every ``engine`` import rewritten), so that one process can
import the pure engine and the compiled one side by side (``benchmarks/mypyc_bench.py``).

The build runs outside the project's root on purpose: the mypyc command line builds through setuptools in the
current directory, and the venv's setuptools (65.5) rejects the project's pyproject.toml (an SPDX ``license``
string needs setuptools 77, which only the isolated build of ``pip install`` has).

    python benchmarks/mypyc_build.py                        # the TLS core's nine hot modules -> /tmp/mypyc-build
    python benchmarks/mypyc_build.py --modules tls/ --modules ssl/ --modules bio/ --out /tmp/mypyc-all
    python benchmarks/mypyc_build.py --package cengine --out /tmp/mypyc-ab
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ("tls/messages.py", "tls/messages12.py", "tls/record.py", "tls/keyschedule.py", "tls/handshake.py",
        "tls/client13.py", "tls/server13.py", "tls/connection.py", "tls/wire.py")

MYPY_INI = """[mypy]
python_version = 3.11
strict = True
warn_unreachable = True
"""

SETUP = """from setuptools import setup
from mypyc.build import mypycify

setup(name="{package}-mypyc", packages=[], ext_modules=mypycify({paths!r}, opt_level={opt!r}, verbose=False))
"""

_IMPORT = re.compile(r"^(\s*)(from|import) engine(\b)", re.MULTILINE)
_CLASS = re.compile(r"^class (\w+)\b")
_CLASSVAR_TYPE = re.compile(r"^    handshake_type: ClassVar\[int\] = HandshakeType\.(\w+)$")
_PROTOCOL_TYPE = "    handshake_type: ClassVar[int]\n\n    def build_body"


def mypyc_patches(path: Path, text: str) -> str:
    """Source changes mypyc needs, made in the copy only (docs/compiled-core.md, "Obstacles").

    mypyc (2.4) makes every class-body assignment of a native class an instance attribute and lists it in the
    class's ``__annotations__``, so a dataclass's ``ClassVar`` becomes a field (mypyc/mypyc#740, #1122): the message
    classes' ``handshake_type: ClassVar[int] = HandshakeType.x`` breaks at import ("non-default argument 'random'
    follows default argument"), and mypyc refuses to read an instance attribute through the class. So in the copy
    each message's ``handshake_type`` is a read-only property returning the same ``HandshakeType`` member, the
    ``HandshakeBody`` protocol's member a property too, and ``messages._PARSERS`` keyed through a name table instead
    of ``cls.handshake_type``. Instances behave the same; ``ClientHello.handshake_type`` on the class is a property
    object (nothing in the engine, harness or tests reads it there).
    """
    if path.parent.name != "tls":
        return text
    names: dict[str, str] = {}
    lines, current = [], ""
    for line in text.split("\n"):
        if m := _CLASS.match(line):
            current = m.group(1)
        if m := _CLASSVAR_TYPE.match(line):
            names[current] = m.group(1)
            lines += ["    @property", "    def handshake_type(self) -> int:",
                      f"        return HandshakeType.{m.group(1)}"]
        else:
            lines.append(line)
    text = "\n".join(lines)
    text = text.replace(_PROTOCOL_TYPE, "    @property\n    def handshake_type(self) -> int: ...\n\n    def build_body")
    if path.name == "handshake12.py":
        # mypyc checks an attribute redefined in a subclass for an identical type: the base's WAIT_CCS / WAIT_FINISHED
        # (declared Enum, assigned a Client12State / Server12State member in the subclasses' bodies) become ClassVars,
        # as HandshakeMachine.CONNECTED already is
        text = text.replace("from typing import Literal\n", "from typing import ClassVar, Literal\n")
        text = text.replace("    WAIT_CCS: Enum\n    WAIT_FINISHED: Enum\n",
                            "    WAIT_CCS: ClassVar[Enum]\n    WAIT_FINISHED: ClassVar[Enum]\n")
    if path.name == "events.py":
        # the NEED_DATA singleton's cache is a class attribute written through ``cls``: a ClassVar for mypyc
        text = text.replace("from dataclasses import dataclass, field\n",
                            "from dataclasses import dataclass, field\nfrom typing import ClassVar\n")
        text = text.replace("    _instance: _NeedData | None = None\n",
                            "    _instance: ClassVar[_NeedData | None] = None\n")
    if path.name == "connection.py":
        # the interpreter-only shortcut that builds ApplicationData through object.__new__ and the slot's descriptor
        # (a native class has no such slot in its __dict__): compiled, the plain constructor is a C call
        text = text.replace('_set_data = ApplicationData.__dict__["data"].__set__', "")
        text = text.replace("ev: ApplicationData = _new_event(ApplicationData)", "ev = ApplicationData(rec[1])")
        text = text.replace("                    _set_data(ev, rec[1])\n", "")
    if path.name == "messages.py":
        table = "".join(f"    {name!r}: HandshakeType.{member},\n" for name, member in names.items())
        text = text.replace("_PARSERS: dict[int, type[Message]] = {\n    cls.handshake_type: cls\n",
                            f"_TYPE_OF: dict[str, int] = {{\n{table}}}\n\n"
                            "_PARSERS: dict[int, type[Message]] = {\n    _TYPE_OF[cls.__name__]: cls\n")
    return text


def copy_tree(out: Path, package: str) -> Path:
    dest = out / package
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(ROOT / "engine", dest, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    for path in dest.rglob("*.py"):
        text = path.read_text()
        new = mypyc_patches(path, text)
        if package != "engine":
            new = _IMPORT.sub(lambda m: f"{m.group(1)}{m.group(2)} {package}{m.group(3)}", new)
        if new != text:
            path.write_text(new)
    return dest


def expand(package_dir: Path, package: str, specs: list[str]) -> list[str]:
    paths: list[str] = []
    for spec in specs:
        target = package_dir / spec
        if spec.endswith("/"):
            paths += sorted(f"{package}/{p.relative_to(package_dir)}" for p in target.rglob("*.py"))
        elif target.is_file():
            paths.append(f"{package}/{spec}")
        else:
            raise SystemExit(f"mypyc_build: no such engine module: {spec}")
    return list(dict.fromkeys(paths))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--out", type=Path, default=Path("/tmp/mypyc-build"), help="scratch tree (default %(default)s)")
    parser.add_argument("--package", default="engine", help="package name of the copy (default %(default)s)")
    parser.add_argument("--modules", action="append", default=[],
                        help="module under engine/ to compile, e.g. tls/record.py, or a folder with a trailing "
                        "slash (repeatable; default: the nine TLS core modules)")
    parser.add_argument("--exclude", action="append", default=[], help="module to leave as Python (repeatable)")
    parser.add_argument("--opt-level", default="3", help="C optimisation level (default 3)")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("build", "setup_mypyc.py"):
        if (out / stale).is_dir():
            shutil.rmtree(out / stale)
    package_dir = copy_tree(out, args.package)
    excluded = {f"{args.package}/{e}" for e in args.exclude}
    paths = [p for p in expand(package_dir, args.package, args.modules or list(CORE)) if p not in excluded]
    (out / "mypy.ini").write_text(MYPY_INI)
    (out / "setup_mypyc.py").write_text(SETUP.format(package=args.package, paths=paths, opt=args.opt_level))
    print(f"mypyc_build: compiling {len(paths)} modules into {out}", file=sys.stderr)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "setup_mypyc.py", "build_ext", "--inplace"], cwd=out,
                          capture_output=True, text=True)
    elapsed = time.monotonic() - start
    log = out / "build.log"
    log.write_text(proc.stdout + proc.stderr)
    notes = [line for line in (proc.stdout + proc.stderr).splitlines()
             if re.match(rf"{args.package}/\S+:\d+: (error|warning)", line)]
    for line in notes:
        print(line, file=sys.stderr)
    if proc.returncode != 0:
        print(f"mypyc_build: build failed after {elapsed:.0f} s (log: {log})", file=sys.stderr)
        return 1
    built = sorted(str(p.relative_to(out)) for p in out.rglob("*.so"))
    print(f"mypyc_build: {len(built)} extension modules in {elapsed:.0f} s; use PYTHONPATH={out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
