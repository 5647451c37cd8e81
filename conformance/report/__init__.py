"""Reports built from the streamed records only.

``index.html`` (the overview) and ``pages/`` (a page per man page, per stack, per case, the list of every case and,
with a baseline, the changes) are self-contained HTML with inline CSS and JavaScript, filterable without network
access; ``summary.json``; ``junit.xml``. The data model (:mod:`conformance.report.model`) is separate from rendering
(:mod:`conformance.report.write` and the autoescaping templates in ``conformance/templates``). ``conformance
report`` rebuilds the reports from one or more results files (shards of one run); ``conformance compare`` compares
two runs (:mod:`conformance.report.compare`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from conformance.report.compare import Comparison, compare, load_snapshot, snapshot_from
from conformance.report.model import Aggregate, NothingToReport, Stream, stream_of, worst
from conformance.report.write import write_directory
from conformance.results import Results

__all__ = ["NothingToReport", "build_model", "compare", "load_snapshot", "worst", "write_reports"]


def build_model(source: Results | Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The report's data from records in memory (merged results, or JSON records checked and merged here)."""
    stream = stream_of(source)
    aggregate = Aggregate()
    for item in stream.verdicts():
        aggregate.add(item)
    if stream.retracted:
        stream, aggregate = stream.again(), Aggregate()
        for item in stream.verdicts():
            aggregate.add(item)
    return aggregate.model(stream)


def write_reports(directory: Path, sources: list[Path] | Results, baseline: Path | None = None) -> dict[str, Any]:
    """Build ``index.html``, ``pages/``, ``summary.json`` and ``junit.xml`` in ``directory``.

    Records files are streamed (never held whole in memory). Nothing is written unless there is something to report
    (:class:`ResultsError` says why); everything is staged beside the report and moved into place at the end, so a
    failure leaves the previous report whole. With ``baseline`` (a records file or a report directory), the overview
    and ``pages/changes.html`` say what changed since it.
    """
    if isinstance(sources, Results):
        if not sources.verdicts and not sources.planned and not sources.differential:
            raise NothingToReport(f"nothing to report: these records hold no verdict and no plan; {directory} left "
                               "unchanged")
        stream = stream_of(sources)
    else:
        stream = Stream(sources)
    comparison: Comparison | None = None
    if baseline is not None:
        current = stream_of(sources) if isinstance(sources, Results) else Stream(sources)
        label = "this run" if isinstance(sources, Results) else ", ".join(map(str, sources))
        comparison = compare(load_snapshot(baseline), snapshot_from(current, label))
    try:
        return write_directory(directory, stream, comparison)
    except NothingToReport:
        if isinstance(sources, Results):
            raise
        what = ", ".join(map(str, sources)) or "no files"
        raise NothingToReport(f"nothing to report: {what} hold no verdict and no plan; {directory} left "
                              "unchanged") from None
