"""JUnit XML written as a stream: test cases go to a body file as the records pass, the suite's counts go in front
at the end."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from conformance.verdicts import VerdictRecord

__all__ = ["JunitWriter"]

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FAILURES = ("failed", "unexpected-pass")
_ERRORS = ("error", "hang", "crash")
_SKIPPED = ("not-applicable", "expected-deviation")


def _text(value: str) -> str:
    """``value`` as XML character data: characters XML cannot hold become U+FFFD, and ``& < > ' "`` character
    references (the same as ``markupsafe.escape``, without making a ``Markup`` per value)."""
    if _NOT_XML.search(value):
        value = _NOT_XML.sub("\ufffd", value)
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")
            .replace('"', "&#34;"))


def _attr(value: str) -> str:
    return f'"{_text(value)}"'


_ATTRS: dict[str, str] = {}


def _attr_once(value: str) -> str:
    """:func:`_attr` of a value that recurs (a stack's name, a verdict), made once."""
    done = _ATTRS.get(value)
    if done is None:
        if len(_ATTRS) > 10_000:
            _ATTRS.clear()
        done = _ATTRS[value] = _attr(value)
    return done


class JunitWriter:
    def __init__(self, body: Path) -> None:
        self.body_path = body
        self.body = body.open("w", encoding="utf-8")
        self.tests = self.failures = self.errors = self.skipped = 0

    def add(self, v: VerdictRecord) -> None:
        verdict = v.verdict.value
        name = v.case + (f"[{v.client}->{v.peer}]" if v.peer is not None else "")
        if v.params:
            name += "[" + ",".join(f"{k}={p}" for k, p in sorted(v.params.items())) + "]"
        self.tests += 1
        if verdict == "passed":
            self.body.write(f"<testcase classname={_attr_once(v.stack)} name={_attr(name)} "
                            f'time="{v.duration:.6f}" />\n')
            return
        self.body.write(f"<testcase classname={_attr_once(v.stack)} name={_attr(name)} time=\"{v.duration:.6f}\"")
        text = v.reason + "\n" + "\n".join(v.trace)
        if verdict in _FAILURES:
            self.failures += 1
            self.body.write(f"><failure message={_attr(verdict)}>{_text(text)}</failure></testcase>\n")
        elif verdict in _ERRORS:
            self.errors += 1
            self.body.write(f"><error message={_attr(verdict)}>{_text(text)}</error></testcase>\n")
        elif verdict in _SKIPPED:
            self.skipped += 1
            self.body.write(f"><skipped message={_attr(f'{verdict}: {v.reason}'[:500])} /></testcase>\n")
        else:
            self.body.write(" />\n")

    def close(self) -> None:
        self.body.close()

    def finish(self, path: Path, missing: list[str], uncollected: list[str] = []) -> None:  # noqa: B006
        """Write ``path``: the suite with its counts, the streamed cases, then every planned-but-missing verdict and
        every case module that could not be collected."""
        extra = len(missing) + len(uncollected)
        tests, errors = self.tests + extra, self.errors + extra
        with path.open("w", encoding="utf-8") as out:
            out.write("<?xml version='1.0' encoding='utf-8'?>\n")
            out.write(f'<testsuite name="conformance" tests="{tests}" failures="{self.failures}" errors="{errors}" '
                      f'skipped="{self.skipped}">\n')
            with self.body_path.open(encoding="utf-8") as body:
                shutil.copyfileobj(body, out, 1 << 20)
            for nodeid in missing:
                out.write(f'<testcase classname="incomplete" name={_attr(nodeid)} time="0"><error message="incomplete">'
                          "planned but never recorded: the run was interrupted, or the process running it was lost"
                          "</error></testcase>\n")
            for entry in uncollected:
                module, _, error = entry.partition(": ")
                out.write(f'<testcase classname="uncollected" name={_attr(module)} time="0"><error '
                          f'message="not collected">{_text(error or entry)}</error></testcase>\n')
            out.write("</testsuite>\n")
        self.body_path.unlink()
