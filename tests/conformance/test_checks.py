"""Misconfigurations are found before the first case: one line each naming what to fix, exit status 2, no traceback,
and the report directory untouched (conformance/checks.py, through both the command line and the pytest plugin)."""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path
from typing import Any

import pytest

import specs
from conformance.catalogue import load_catalogue
from conformance.checks import Settings, case_names, preflight
from conformance.cli import main
from conformance.expectations import OPEN_CASE, check_expectations, load_expectations

HERE = Path(__file__).parent


def _snapshot(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture
def old_report(tmp_path: Path) -> Path:
    """A report directory holding an earlier, good report."""
    report = tmp_path / "report"
    (report / "runs").mkdir(parents=True)
    (report / "index.html").write_text("<p>the earlier report</p>")
    (report / "summary.json").write_text('{"ok": true}')
    (report / "results.jsonl").write_text('{"schema": 2, "kind": "run", "run": "old"}\n')
    (report / "runs" / "old.jsonl").write_text('{"schema": 2, "kind": "run", "run": "old"}\n')
    return report


@pytest.fixture
def broken_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(HERE))


CASES = [
    (["--stack", "brokenstacks:VersionRaises"], "version() raised RuntimeError: cannot find the library's version"),
    (["--stack", "brokenstacks:ConstructorRaises"], "loading the adapter raised KeyError"),
    (["--stack", "brokenstacks:AvailabilityRaises"], "raised OSError: libfoo.so"),
    (["--stack", "brokenstacks:Unavailable"], "libfoo is not installed"),
    (["--stack", "brokenstacks:NoSuchClass"], "cannot import stack adapter"),
    (["--stack", "brokenstacks:UnknownCapability"], "unknown capabilities time_travel"),
    (["--stack", "brokenstacks:Expect_syntax"], "syntax.toml: not valid TOML"),
    (["--stack", "brokenstacks:Expect_schema"], "schema.toml deviation #1: verdict 'passed' is not one of"),
    (["--stack", "brokenstacks:Expect_unknown_case"],
     "unknown_case.toml: case 'test_write_returns_bytes_writen' does not exist"),
    (["--stack", "brokenstacks:Expect_unknown_clause"], "names clause 'SSL_write/RETURN VALUES/>9000'"),
    (["--stack", "brokenstacks:Expect_unknown_key"], "unknown key 'peer'"),
    (["--stack", "brokenstacks:Expect_clause_not_claimed"],
     "case 'test_key_update_none_refused' names clause 'SSL_key_update/DESCRIPTION/tls13-after-handshake', which the "
     "case does not claim"),
    (["--stack", "stdlib", "-n", "-3"], "-n -3: the number of worker processes must be 0"),
    (["--stack", "stdlib", "--case-deadline", "-1"], "--case-deadline -1: must be 0"),
    (["--stack", "stdlib", "--page", "SSL_nope"], "--page SSL_nope: unknown page"),
]


@pytest.mark.parametrize(("args", "message"), CASES, ids=[c[1][:30] for c in CASES])
@pytest.mark.usefixtures("broken_on_path")
def test_cli_refuses_before_running(args: list[str], message: str, old_report: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    before = _snapshot(old_report)
    assert main(["run", "--report", str(old_report), *args]) == 2
    out, err = capsys.readouterr()
    assert message in err, err
    assert "Traceback" not in out + err
    problem_lines = [line for line in err.splitlines() if line.startswith("conformance: ")]
    assert problem_lines[-1].endswith("left unchanged")
    assert _snapshot(old_report) == before


def test_seed_from_the_environment_must_be_a_number(old_report: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CONFORMANCE_RUN_SEED", "abc")
    before = _snapshot(old_report)
    assert main(["run", "--stack", "stdlib", "--report", str(old_report)]) == 2
    assert "CONFORMANCE_RUN_SEED='abc' is not an integer" in capsys.readouterr().err
    assert _snapshot(old_report) == before


def test_unwritable_report_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert main(["run", "--stack", "stdlib", "--report", str(blocker / "report")]) == 2
    err = capsys.readouterr().err
    assert f"{blocker} is a file, not a directory; choose another --report" in err
    assert blocker.read_text() == "not a directory"


def test_every_problem_is_reported_at_once(tmp_path: Path, broken_on_path: None) -> None:
    _, problems = preflight(Settings(stacks=["brokenstacks:VersionRaises", "brokenstacks:Expect_unknown_key"],
                                     pages=["SSL_nope"], workers=-1, report=tmp_path / "r"))
    assert len(problems) == 4, problems
    assert all("\n" not in p for p in problems)
    assert not (tmp_path / "r").exists()


def test_a_string_expectations_path_is_accepted(broken_on_path: None) -> None:
    adapters, problems = preflight(Settings(stacks=["brokenstacks:StringExpectations"]))
    assert problems == [] and adapters[0].name == "string-expectations"


def test_the_builtin_expectations_name_existing_cases_and_clauses() -> None:
    _, problems = preflight(Settings())
    assert problems == []


def test_case_names_are_read_without_importing(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("import no_such_module\n\n"
                                        "@pytest.mark.clauses('A/B/c')\ndef test_one(h):\n    pass\n")
    assert case_names([tmp_path]) == {"test_one": {"A/B/c"}}
    assert case_names([tmp_path / "absent"]) is None


def test_case_clauses_are_read_from_constants_f_strings_and_parameter_marks(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text(
        'P = "A"\nBOTH = (f"{P}/B/c", "A/B/d")\n'
        'PARAMS = [pytest.param(1, marks=pytest.mark.clauses(f"{P}/B/p")), 2]\n'
        "def _made():\n    return [pytest.param(p, marks=pytest.mark.clauses(f'{p}/B/q')) for p in 'xy']\n\n"
        "@pytest.mark.clauses(*BOTH)\n@pytest.mark.parametrize('n', PARAMS)\ndef test_one(h, n):\n    pass\n\n"
        "@pytest.mark.clauses(P + '/B/c')\ndef test_two(h):\n    pass\n\n"
        "@pytest.mark.clauses('A/B/c')\n@pytest.mark.parametrize('p', _made())\ndef test_three(h, p):\n    pass\n")
    assert case_names([tmp_path]) == {"test_one": {"A/B/c", "A/B/d", "A/B/p"}, "test_two": {OPEN_CASE},
                                      "test_three": {"A/B/c", OPEN_CASE}}


def _imported_clauses() -> dict[str, set[str]]:
    """Case name -> every clause its marks name, read from the imported case modules (the marks pytest collects:
    the function's own, and those of its parameters)."""
    found: dict[str, set[str]] = {}
    for file in sorted((Path(specs.__file__).parent / "cases").glob("test_*.py")):
        module = importlib.import_module(f"specs.cases.{file.stem}")
        for name, function in vars(module).items():
            if not name.startswith("test_") or not callable(function):
                continue
            clauses = found.setdefault(name, set())
            for mark in getattr(function, "pytestmark", []):
                if mark.name == "clauses":
                    clauses.update(mark.args)
                elif mark.name == "parametrize":
                    values: Any = mark.kwargs.get("argvalues", mark.args[1] if len(mark.args) > 1 else [])
                    for value in values:
                        for inner in getattr(value, "marks", ()):
                            if inner.name == "clauses":
                                clauses.update(inner.args)
    return found


def test_the_file_reader_agrees_with_the_collected_marks_and_every_entry_names_its_cases_clauses() -> None:
    """What :func:`case_names` reads without importing is what the imported cases mark (a case it cannot read whole
    is open, and what it read is still right); and every entry of the built-in expectations files, open cases'
    included, names only clauses its case claims."""
    real = _imported_clauses()
    read = case_names([Path(specs.__file__).parent / "cases"])
    assert read is not None and set(read) == set(real)
    for name, clauses in read.items():
        if OPEN_CASE in clauses:
            assert clauses - {OPEN_CASE} <= real[name], name
        else:
            assert clauses == real[name], name
    clause_ids = {c.id for page in load_catalogue().pages.values() for c in page.clauses}
    problems = []
    for path in sorted((Path(__file__).parents[2] / "conformance" / "expectations").glob("*.toml")):
        if path.stem != "divergences":  # the differential runner's table, not a stack's file
            assert load_expectations(path.stem, path), path
            problems += check_expectations(path.stem, path, real, clause_ids)
    assert problems == []


@pytest.mark.usefixtures("broken_on_path")
def test_plain_pytest_gets_the_same_checks(pytester: pytest.Pytester, old_report: Path) -> None:
    pytester.syspathinsert(HERE)
    pytester.makepyfile(test_inner="def test_case(h):\n    pass\n")
    before = _snapshot(old_report)
    result = pytester.runpytest_inprocess("--stack", "brokenstacks:VersionRaises", "--stack",
                                          "brokenstacks:Expect_unknown_case", "--conformance-report",
                                          str(old_report), "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "version() raised RuntimeError" in err and "does not exist" in err
    assert "Traceback" not in err and "INTERNALERROR" not in result.stdout.str()
    assert _snapshot(old_report) == before
