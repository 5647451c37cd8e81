"""Writing the report directory: ``index.html`` (the overview), ``pages/`` (drill-down), ``summary.json``,
``junit.xml``.

Everything is written into a staging directory beside the report and moved into place at the end, so a failure
leaves the previous report whole. Traces are written only to the case pages, through hashed bucket files: each
record's row is appended to the bucket of its case during the single streaming pass, and each bucket (a small part
of the records) is then turned into its case pages.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import marshal
import os
import re
import shutil
import sys
import tempfile
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from conformance.report.chart import benchmark_svg
from conformance.report.compare import DIGEST, Comparison, DigestWriter
from conformance.report.junit import JunitWriter
from conformance.report.model import (
    NOT_JUDGED,
    OPENSSL_STACKS,
    Aggregate,
    CaseRow,
    Erratum,
    Item,
    NothingToReport,
    Stream,
    case_file,
    params_text,
    pinned_clauses,
    safe_name,
)
from conformance.verdicts import VerdictRecord

__all__ = ["PAGES", "write_directory"]

PAGES = "pages"
BUCKETS = 64


def _env() -> Environment:
    env = Environment(loader=PackageLoader("conformance", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["page_file"] = _page_file
    env.filters["stack_file"] = lambda name: f"stack-{safe_name(name)}.html"
    env.filters["case_file"] = case_file
    env.filters["params"] = params_text
    env.globals["not_judged"] = NOT_JUDGED
    env.filters["pct"] = lambda share: "–" if share is None else f"{100 * share:.0f}%"
    env.filters["heat"] = _heat_colour
    env.filters["first_line"] = lambda text: (text.splitlines() or [""])[0][:160]
    env.filters["spaced"] = lambda items: " ".join(sorted(set(items)))
    env.filters["pages_of"] = _pages_of
    env.filters["top"] = lambda items, n: Counter(items).most_common(n)
    env.globals.update(problem_rows=problem_rows, below_rows=below_rows, erratum_rows=erratum_rows,
                       case_links=case_links, cases_rows=cases_rows,
                       openssl_stacks=OPENSSL_STACKS)
    return env


def _heat_colour(share: float | None) -> str:
    """A background for a share of clauses passed: red (0) through yellow to green (1); grey when nothing applies."""
    if share is None:
        return "#eeeeee"
    hue = int(120 * share)
    return f"hsl({hue}, 65%, {82 - 6 * share:.0f}%)"


def _esc(text: str) -> str:
    """``str(markupsafe.escape(text))`` for a plain string (the templates' escaping, character for character), with
    no ``Markup`` object made: five C-level replacements."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")
            .replace('"', "&#34;"))


class _Memo(dict[str, str]):
    """Escaped HTML of texts that recur (reasons, parameters), made once; emptied when it grows large."""

    def __init__(self, make: Callable[[str], str], limit: int = 20_000) -> None:
        super().__init__()
        self.make, self.limit = make, limit

    def __missing__(self, text: str) -> str:
        if len(self) >= self.limit:
            self.clear()
        done = self[text] = self.make(text)
        return done


_NAMES: dict[str, str] = {}


def _name(text: str) -> str:
    """A stack's name, escaped once."""
    done = _NAMES.get(text)
    if done is None:
        done = _NAMES[text] = _esc(text)
    return done


def _fold(text: str, limit: int = 200) -> str:
    """Short text inline; longer text folded under its first line."""
    if "\n" not in text and len(text) <= limit:
        return _esc(text)
    first = (text.splitlines() or [""])[0]
    head = first[:limit] + (" …" if len(first) > limit or "\n" in text else "")
    return f"<details><summary>{_esc(head)}</summary><pre>{_esc(text)}</pre></details>"


_WHO: dict[tuple[str, str, str, bool], tuple[str, str, str]] = {}


def _who(stack: str, client: str, server: str, pair: bool) -> tuple[str, str, str]:
    """(the stacks of a row for the filter, the stack cell, the client → server cell), escaped, made once."""
    key = (stack, client, server, pair)
    done = _WHO.get(key)
    if done is None:
        done = _WHO[key] = (_esc(" ".join(sorted({stack, client, server}))), _esc(stack),
                            f"{_esc(client)} → {_esc(server)}" if pair else "")
    return done


_FOLDED = _Memo(_fold)
_PARAMS = _Memo(lambda params: _esc(params_text(params)))


def _expectation_html(exp: dict[str, Any], record: VerdictRecord) -> str:
    judged = ""
    pinned = pinned_clauses(record.verdict.value, tuple(record.clauses), exp)
    if pinned is not None:
        rest = [c for c in record.clauses if c not in pinned]
        judged = (f"<br>Deviates on {_esc(', '.join(pinned))}"
                  + (f"; <span class=not-judged>not judged on this stack: {_esc(', '.join(rest))}</span> (the case "
                     "stopped at the pinned deviation)" if rest else ""))
    return (f"<div class=exp><b>Expected deviation</b>: {_esc(str(exp.get('reason', '')))}{judged}"
            + (f"<details><summary>evidence</summary><pre>{_esc(str(exp['evidence']))}</pre></details>"
               if exp.get("evidence") else "") + "</div>")


def case_row(item: Item) -> str:
    """One record's row on its case page, with its reason and its trace."""
    record = item.record
    peer = record.peer
    verdict = record.verdict.value
    server = record.stack if peer is None else peer if record.client == record.stack else record.stack  # server_of
    sides, stack, who = _who(record.stack, record.client, server, peer is not None)
    expectation = _expectation_html(record.expectation, record) if record.expectation else ""
    trace = record.trace
    trace_html = (f"<details><summary>trace ({len(trace)} lines)</summary><pre>{_esc(chr(10).join(trace))}"
                  "</pre></details>") if trace else ""
    return (f'<tr id="r-{item.digest[:6].hex()}" class="f" data-stack="{sides}" data-verdict="{verdict}">'
            f"<td>{stack}</td><td>{who}</td>"
            f"<td>{_PARAMS[item.params] if item.params else ''}</td>"
            f'<td class="v {verdict}">{verdict}</td>'
            f"<td>{_FOLDED[record.reason] if verdict != 'passed' else ''}{expectation}{trace_html}</td>"
            f"<td class=num>{record.duration:.3f}</td></tr>")


def _pages_of(clauses: Iterable[str]) -> str:
    return " ".join(sorted({c.split("/", 1)[0] for c in clauses}))


def _reason_html(text: str) -> str:
    """The ``reason`` macro of ``_macros.html.j2``, in Python."""
    if "\n" not in text and len(text) <= 200:
        return _esc(text)
    first = (text.splitlines() or [""])[0][:160]
    return f"<details><summary>{_esc(first)} …</summary><pre>{_esc(text)}</pre></details>"


_REASONS = _Memo(_reason_html)
_CASE_FILES = _Memo(lambda case: _esc(case_file(case)))
_CASES = _Memo(_esc)
_PAGES_OF: dict[tuple[str, ...], str] = {}


def _pages_html(clauses: tuple[str, ...]) -> str:
    """``_pages_of(clauses)``, escaped, made once per list of clauses."""
    done = _PAGES_OF.get(clauses)
    if done is None:
        if len(_PAGES_OF) > 20_000:
            _PAGES_OF.clear()
        done = _PAGES_OF[clauses] = _esc(_pages_of(clauses))
    return done


def problem_rows(rows: list[CaseRow], root: str, limit: int | None = None) -> Markup:
    """Table rows for non-passed verdicts (the same markup for the overview and the stack pages), built in Python:
    a stack page of a large run has thousands."""
    out = []
    for p in rows[:limit]:
        sides = _name(" ".join(sorted({p.stack, p.client, p.server})))
        pair = f'<br><span class="muted">{_name(p.client)} → {_name(p.server)}</span>' if p.interop else ""
        params = f'<br><span class="muted mono">{_PARAMS[p.params]}</span>' if p.params else ""
        out.append(f'<tr class="f" data-stack="{sides}" data-verdict="{p.verdict}" '
                   f'data-page="{_pages_html(p.clauses)}">'
                   f'<td class="v {p.verdict}">{p.verdict}</td><td>{_name(p.stack)}{pair}</td>'
                   f'<td><a href="{root}pages/{_CASE_FILES[p.case]}#{p.anchor}">{_CASES[p.case]}</a>{params}</td>'
                   f"<td>{_REASONS[p.reason]}</td></tr>")
    return Markup("\n".join(out))


def below_rows(rows: list[CaseRow]) -> Markup:
    """The rows of a stack page's "passes on libssl but not here" table (a large run has thousands)."""
    out = []
    for r in rows:
        params = f' <span class="muted mono">{_PARAMS[r.params]}</span>' if r.params else ""
        out.append(f'<tr class="f" data-verdict="{r.verdict}" data-page="{_pages_html(r.clauses)}">'
                   f'<td class="v {r.verdict}">{r.verdict}</td>\n'
                   f'<td><a href="{_CASE_FILES[r.case]}#{r.anchor}">{_CASES[r.case]}</a>{params}</td>'
                   f"<td>{_REASONS[r.reason]}</td></tr>")
    return Markup("\n".join(out))


def erratum_rows(items: list[Erratum], root: str) -> Markup:
    """The ``erratum_rows`` macro of ``_macros.html.j2``, in Python: a stack page lists an expected deviation per case
    (thousands in a large run)."""
    out = []
    for e in items:
        stack = _name(e.stack)
        count = f' <span class="muted">({e.count} verdicts)</span>' if e.count > 1 else ""
        clauses = "".join(f'<a class="clause-id" href="{root}pages/{_esc(_page_file(c.split("/")[0]))}#{_esc(c)}">'
                          f"{_esc(c)}</a><br>" for c in sorted(e.clauses, key=str.lower))  # as jinja's sort
        unjudged = sorted(e.not_judged - e.clauses, key=str.lower)
        if unjudged:
            clauses += (f'<span class="muted">not judged on this stack (the case stopped at the pinned deviation): '
                        f'{_esc(", ".join(unjudged))}</span>')
        evidence = (f"<details><summary>evidence</summary><pre>{_esc(e.evidence)}</pre></details>"
                    if e.evidence else "")
        link = _esc(e.first.link) if e.first is not None else ""
        out.append(f'<tr class="f" data-stack="{stack}" data-verdict="expected-deviation" '
                   f'data-page="{_esc(_pages_of(e.clauses))}">\n<td>{stack}</td>\n'
                   f'<td><a href="{root}pages/{link}">{_CASES[e.case]}</a>{count}<br>\n{clauses}</td>\n'
                   f"<td>{_REASONS[e.reason]}{evidence}</td></tr>\n")
    return Markup("".join(out))


def case_links(names: Iterable[str | tuple[str, int]], stack: str = "") -> Markup:
    """Links to case pages (``(name, count)`` pairs show the count), comma-separated."""
    hash_ = f"#stack={_esc(stack)}" if stack else ""
    out = []
    for entry in names:
        name, count = (entry, 1) if isinstance(entry, str) else entry
        out.append(f'<a href="{_esc(case_file(name))}{hash_}">{_esc(name)}</a>' + (f" ×{count}" if count > 1 else ""))
    return Markup(", ".join(out))


def cases_rows(cases: list[dict[str, Any]], stacks: list[str]) -> Markup:
    """The rows of ``pages/cases.html``: a case per row, its worst verdict per stack."""
    out = []
    for c in cases:
        verdicts = " ".join(sorted({v for d in c["stacks"].values() for v in d["counts"]}))
        cells = []
        for s in stacks:
            d = c["stacks"].get(s)
            if d is None:
                cells.append(f'<td class="v f" data-stack="{_name(s)}"></td>')
                continue
            title = "; ".join(f"{k}: {n}" for k, n in d["counts"].items())
            cells.append(f'<td class="v {d["verdict"]} f" data-stack="{_name(s)}" title="{title}">'
                         f'<a href="{_esc(c["file"])}#stack={_name(s)}">{d["verdict"]}</a></td>')
        out.append(f'<tr class="f" data-page="{_esc(" ".join(c["pages"]))}" data-verdict="{verdicts}">'
                   f'<td><a class="mono" href="{_esc(c["file"])}">{_esc(c["name"])}</a></td>{"".join(cells)}</tr>')
    return Markup("\n".join(out))


def _case_head(case: dict[str, Any] | None) -> str:
    """A case page's clauses (linked to their pages) and its verdict counts per stack."""
    if case is None:
        return ""
    links = " · ".join(f'<a class="clause-id" href="{_esc(_page_file(c.split("/", 1)[0]))}#{_esc(c)}">{_esc(c)}</a>'
                       for c in case["clauses"])
    counts = " ".join(
        f"<b>{_name(s)}</b> <span class=counts>"
        + "".join(f'<span class="{v}">{n} {v}</span>' for v, n in sorted(d["counts"].items())) + "</span>"
        for s, d in sorted(case["stacks"].items()))
    return (f"<p>Clauses: {links}</p>" if links else "") + f"<p>{counts}</p>"


def _page_file(name: str) -> str:
    return f"page-{safe_name(name)}.html"


class CaseBuckets:
    """Rows of the case pages, spread over hashed files while the records stream past.

    Each entry is ``marshal``'d ``(case, order, row as UTF-8)`` behind its length (4 bytes, little-endian), so a bucket
    is read back in one ``read`` and split without a system call per entry."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir()
        self.files: list[IO[bytes]] = [open(directory / f"{i:02d}", "wb") for i in range(BUCKETS)]  # noqa: SIM115
        self._bucket: dict[str, IO[bytes]] = {}

    def add(self, item: Item) -> None:
        record = item.record
        case = record.case
        bucket = self._bucket.get(case)
        if bucket is None:
            bucket = self._bucket[case] = self.files[zlib.crc32(case.encode("utf-8", "surrogatepass")) % BUCKETS]
        entry = marshal.dumps((case, (record.stack, record.client, record.peer or "", item.params),
                               case_row(item).encode("utf-8")))
        bucket.write(len(entry).to_bytes(4, "little") + entry)

    def close(self) -> None:
        for fh in self.files:
            fh.close()

    def groups(self) -> Iterable[tuple[str, list[bytes]]]:
        """(case, its rows in order, as UTF-8) for every case, one bucket in memory at a time."""
        loads = marshal.loads
        for i in range(BUCKETS):
            rows: dict[str, list[tuple[tuple[str, ...], bytes]]] = defaultdict(list)
            with open(self.directory / f"{i:02d}", "rb") as fh:
                data = memoryview(fh.read())
            offset, end = 0, len(data)
            while offset < end:
                size = int.from_bytes(data[offset:offset + 4], "little")
                case, order, row = loads(data[offset + 4:offset + 4 + size])
                offset += 4 + size
                rows[case].append((order, row))
            del data
            for case, items in rows.items():
                items.sort()
                yield case, [row for _, row in items]


def _benchmark(directory: Path) -> dict[str, Any] | None:
    path = directory / "benchmark.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    stacks = data.get("stacks") if isinstance(data, dict) else None
    if not isinstance(stacks, dict) or not stacks:
        return None
    return {"svg": Markup(benchmark_svg(stacks)), "stacks": stacks}


def write_directory(directory: Path, stream: Stream, comparison: Comparison | None = None) -> dict[str, Any]:
    """Stream ``stream``'s verdicts into the reports of ``directory``; returns the model.

    :class:`ResultsError` when the records are bad or hold nothing to report: ``directory`` is then left as it was
    (a directory made for the report is removed again).
    """
    made = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    # The pass keeps tens of thousands of small objects that make no reference cycles (counters, rows, interned
    # strings); the cyclic collector would walk all of them again and again as they accumulate (a tenth of the CPU
    # time of a 100,000-record report). It is paused for the pass and resumed afterwards; reference counting still
    # frees everything that is dropped.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for attempt in (1, 2):
            stage = Path(tempfile.mkdtemp(prefix=".report-", dir=directory))
            try:
                model = _write_stage(stage, directory, stream, comparison)
                if stream.retracted and attempt == 1:
                    stream = stream.again()
                    continue
                if stream.kept == 0 and not stream.planned and not stream.others:
                    raise NothingToReport("nothing to report: the records hold no verdict, no plan and no differential "
                                          f"run; {directory} left unchanged")
                _publish(stage, directory)
                return model
            finally:
                with contextlib.suppress(OSError):
                    shutil.rmtree(stage)
        raise AssertionError("unreachable: the second pass drops every retracted record")
    except BaseException:
        if made:
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    finally:
        if collecting:
            gc.enable()


def _write_stage(stage: Path, directory: Path, stream: Stream, comparison: Comparison | None) -> dict[str, Any]:
    pages = stage / PAGES
    pages.mkdir()
    aggregate = Aggregate()
    buckets = CaseBuckets(stage / ".buckets")
    junit = JunitWriter(stage / ".junit-body")
    digest = DigestWriter(stage / DIGEST)
    try:
        for item in stream.verdicts():
            aggregate.add(item)
            buckets.add(item)
            junit.add(item.record)
            digest.add(item)
        digest.versions(stream)
    finally:
        buckets.close()
        junit.close()
        digest.close()
    model = aggregate.model(stream)
    model["generated"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    model["benchmark"] = _benchmark(directory)
    model["comparison"] = comparison
    env = _env()
    common = {"verdict_names": model["verdict_names"], "stack_names": model["stack_names"],
              "pages_seen": model["pages_seen"], "generated": model["generated"]}

    def render(name: str, path: Path, root: str, **values: Any) -> None:
        path.write_text(env.get_template(name).render(root=root, **common, **values), encoding="utf-8")

    render("overview.html.j2", stage / "index.html", "", m=model)
    for block in model["matrix"]:
        render("page.html.j2", pages / f"page-{safe_name(block['page'].name)}.html", "../", m=model, block=block)
    for stack in model["stacks"]:
        render("stack.html.j2", pages / f"stack-{safe_name(stack['name'])}.html", "../", m=model, s=stack)
    render("cases.html.j2", pages / "cases.html", "../", m=model)
    if comparison is not None:
        render("changes.html.j2", pages / "changes.html", "../", m=model, c=comparison)
    _case_pages(env, common, pages, buckets, {c["name"]: c for c in model["cases"]})
    shutil.rmtree(buckets.directory)
    junit.finish(stage / "junit.xml", model["missing"], model["uncollected"])
    summary = {k: model[k] for k in ("generated", "seeds", "totals", "total", "expected", "complete",
                                     "completeness", "notes", "ok", "missing")}
    summary["stacks"] = [{k: s[k] for k in ("name", "version", "counts", "own", "total", "applicable",
                                            "passed_clauses", "not_judged_clauses")} for s in model["stacks"]]
    summary["problems"] = [{"stack": p.stack, "client": p.client, "server": p.server, "case": p.case,
                            "params": p.params_text, "verdict": p.verdict, "reason": p.reason}
                           for p in model["problems"]]
    summary["differential_findings"] = [d.get("reason", "") for d in model["differential_findings"]]
    if comparison is not None:
        summary["comparison"] = {"baseline": comparison.old.source, "new_failures": len(comparison.new_failures),
                                 "fixed": len(comparison.fixed), "moved": len(comparison.moved),
                                 "versions": comparison.versions}
    (stage / "summary.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    return model


def _case_pages(env: Environment, common: dict[str, Any], pages: Path, buckets: CaseBuckets,
                cases: dict[str, dict[str, Any]]) -> None:
    shell = env.get_template("case.html.j2").render(root="../", **common, name="\x00N\x00",
                                                     head=Markup("\x00H\x00"), rows=Markup("\x00R\x00"))
    # One template rendering for every case page (they are many): the shell's parts around the name, the head and
    # the rows, in the order they come, joined as bytes.
    parts = re.split("(\x00[NHR]\x00)", shell)
    fixed = [p.encode("utf-8") for p in parts]
    for case, rows in buckets.groups():
        fill = {"\x00N\x00": _esc(case).encode("utf-8"),
                "\x00H\x00": _case_head(cases.get(case)).encode("utf-8"),
                "\x00R\x00": b"\n".join(rows)}
        page = b"".join(fill[p] if i % 2 else fixed[i] for i, p in enumerate(parts))
        with open(pages / case_file(case), "wb") as out:
            out.write(page)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one step (Linux renameat2 with RENAME_EXCHANGE); False where that is not offered."""
    if sys.platform != "linux":
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: this file system or kernel cannot; fall back
        return False
    raise OSError(errno, os.strerror(errno), str(a))


def _publish(stage: Path, directory: Path) -> None:
    """Move the staged report into ``directory``. The ``pages`` folder first, swapped with the old one in one step
    where the system offers it (so there is never a moment without it), else by two renames; then each top-level file
    by one rename, ``index.html`` last, so the new overview only ever links to new pages."""
    target = directory / PAGES
    if target.is_dir() and _exchange(stage / PAGES, target):
        old = stage / PAGES  # now holds the previous pages; removed with the stage
    else:
        old = directory / f".{PAGES}-old-{stage.name}"
        if target.exists():
            os.rename(target, old)
        try:
            os.rename(stage / PAGES, target)
        except OSError:
            if old.exists():
                os.rename(old, target)
            raise
    for name in ("summary.json", "junit.xml", DIGEST, "index.html"):
        os.chmod(stage / name, 0o644)
        os.replace(stage / name, directory / name)
    with contextlib.suppress(OSError):
        shutil.rmtree(old)
