"""The HTML report in a real browser: Debian's headless Chromium driven through chromedriver (selenium).

The report is built from records made here (three stacks, failures, a crash, not-applicable verdicts, OpenSSL
errata, other stacks' deviations, interoperability pairs, a long unbroken reason, a benchmark file and a baseline),
then: the overview loads without console errors, every filter changes what is shown, every link of every page
resolves (file and fragment), and no page is wider than 1280 px. Skips, saying why, only where chromium or
chromium-driver is not installed (``scripts/bootstrap`` installs both as root on Debian).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from conformance.report import write_reports
from conformance.results import SCHEMA, append_record

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
# CI (.ci/run) sets this: there a missing browser is a failure, not a skip, so the test cannot silently stop running.
REQUIRED = os.environ.get("CONFORMANCE_REQUIRE_BROWSER") == "1"
try:
    from selenium import webdriver
except ImportError:
    if REQUIRED:
        raise
    pytest.skip("selenium is not installed (a dev dependency)", allow_module_level=True)
if not CHROMIUM or not DRIVER:
    why = ("the browser test needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; "
           "scripts/bootstrap installs them when run as root)")
    if REQUIRED:
        raise RuntimeError(f"CONFORMANCE_REQUIRE_BROWSER=1 but {why}")
    pytest.skip(why, allow_module_level=True)

WIDTH = 1280
READ = "SSL_read/DESCRIPTION/reads-up-to-num"
WRITE = "SSL_write/DESCRIPTION/writes-num-bytes"
MEM = "BIO_s_mem/DESCRIPTION/grows-as-needed"
CONSUME = "BIO_s_mem/DESCRIPTION/read-back-and-consume"


def _verdict(stack: str, case: str, verdict: str, clauses: list[str], **extra: Any) -> dict[str, Any]:
    return {"schema": SCHEMA, "kind": "verdict", "run": "R", "stack": stack, "version": f"{stack} 1.0",
            "case": case, "nodeid": f"t.py::{case}[{stack}-{extra.get('peer', '')}-{extra.get('params', '')}]",
            "clauses": clauses, "verdict": verdict, "reason": extra.pop("reason", ""),
            "trace": ["client: SSL_read_ex(5) -> -1, SSL_get_error -> SSL_ERROR_WANT_READ", "link: 37 bytes"],
            "duration": 0.01, "seed": 1, "client": stack, **extra}


def _records(path: Path, *, baseline: bool = False) -> None:
    append_record(path, {"schema": SCHEMA, "kind": "run", "run": "R", "seed": 7,
                         "stacks": {s: {"version": f"{s} 1.0", "installed": True} for s in ("alpha", "beta")}})
    long_reason = "AssertionError: " + "x" * 600 + "\n" + "a long second line " * 40
    for stack in ("libssl", "alpha", "beta"):
        append_record(path, _verdict(stack, "test_read_returns_bytes", "passed", [READ]))
        for size in (1, 7):
            verdict = "failed" if stack == "beta" and not baseline else "passed"
            append_record(path, _verdict(stack, "test_write_sizes", verdict, [WRITE], params={"size": size},
                                         reason=long_reason if verdict == "failed" else ""))
    append_record(path, _verdict("libssl", "test_mem_grows", "expected-deviation", [MEM], reason="returns 0",
                                 expectation={"stack": "libssl", "verdict": "failed", "reason": "BIO_s_mem.pod "
                                              "says -1, libssl returns 0", "evidence": "BIO_read(b, buf, 0) -> 0"}))
    append_record(path, _verdict("beta", "test_mem_grows", "expected-deviation", [MEM, CONSUME],
                                 reason="beta differs", expectation={"stack": "beta", "verdict": "failed",
                                                                     "reason": "beta differs", "evidence": "e",
                                                                     "clauses": [MEM]}))
    append_record(path, _verdict("alpha", "test_mem_grows", "not-applicable", [MEM],
                                 reason="stack 'alpha' lacks capability 'bio_mem'"))
    append_record(path, _verdict("alpha", "test_peek", "crash", [READ], reason="signal 11 (SIGSEGV)"))
    for client in ("alpha", "beta", "libssl"):
        for server in ("alpha", "beta", "libssl"):
            verdict = "failed" if (client, server) == ("beta", "alpha") else "passed"
            append_record(path, _verdict(client, "test_interop_echo", verdict, [WRITE], peer=server, interop=True,
                                         reason="echo differs" if verdict == "failed" else ""))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    old, new = root / "old.jsonl", root / "new.jsonl"
    _records(old, baseline=True)
    _records(new)
    out = root / "report"
    out.mkdir()
    (out / "benchmark.json").write_text(json.dumps({"stacks": {
        "alpha": {"handshakes_per_s": 700.0, "bulk_mib_per_s": 270.0},
        "beta": {"handshakes_per_s": 50.0, "bulk_mib_per_s": 0.2}}}))
    write_reports(out, [new], baseline=old)
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={WIDTH},900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def _visible_rows(driver: Any) -> int:
    return int(driver.execute_script("return document.querySelectorAll('tr.f:not([hidden])').length"))


def _select(driver: Any, name: str, value: str) -> None:
    driver.execute_script(
        "var s = document.querySelector('#filters [name=' + arguments[0] + ']'); s.value = arguments[1];"
        "s.dispatchEvent(new Event('change'));", name, value)


def test_overview_loads_without_console_errors(report: Path, browser: Any) -> None:
    browser.get((report / "index.html").as_uri())
    assert browser.title == "SSL/BIO conformance report"
    problems = [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert problems == []
    text = browser.find_element("tag name", "body").text
    assert "OpenSSL documentation errata (1)" in text and "signal 11 (SIGSEGV)" in text
    assert browser.execute_script("return document.querySelector('svg.chart') !== null"), "benchmark chart"
    assert browser.find_element("id", "shown").text.endswith("rows shown"), "the filter script ran"


def test_filters_change_what_is_shown(report: Path, browser: Any) -> None:
    browser.get((report / "pages" / "cases.html").as_uri())
    everything = _visible_rows(browser)
    assert everything == 5
    _select(browser, "verdict", "crash")
    assert _visible_rows(browser) == 1
    _select(browser, "verdict", "")
    _select(browser, "page", "BIO_s_mem")
    assert _visible_rows(browser) == 1
    _select(browser, "page", "")
    _select(browser, "stack", "beta")  # columns of the other stacks are hidden
    hidden = browser.execute_script("return Array.from(document.querySelectorAll('th[data-stack]'))"
                                    ".filter(e => e.hidden).map(e => e.textContent)")
    assert sorted(hidden) == ["alpha", "libssl"]
    text = browser.find_element("css selector", "#filters [name=text]")
    text.send_keys("interop")
    assert _visible_rows(browser) == 1
    assert "stack=beta" in browser.current_url and "text=interop" in browser.current_url, "state kept in the URL"
    browser.find_element("css selector", "#filters [name=reset]").click()
    assert _visible_rows(browser) == everything
    browser.get((report / "index.html").as_uri())
    before = _visible_rows(browser)
    _select(browser, "stack", "beta")
    assert 0 < _visible_rows(browser) < before


def test_a_heat_map_link_opens_the_page_filtered_to_its_stack(report: Path, browser: Any) -> None:
    browser.get((report / "index.html").as_uri())
    browser.find_element("css selector", "td.heat[data-stack=beta] a").click()
    assert browser.current_url.endswith("#stack=beta")
    assert browser.execute_script("return document.querySelector('#filters [name=stack]').value") == "beta"
    shown = browser.execute_script("return Array.from(document.querySelectorAll('th[data-stack]'))"
                                   ".filter(e => !e.hidden).map(e => e.textContent)")
    assert shown == ["beta"]


def test_a_clause_the_pinned_case_never_reached_reads_not_judged(report: Path, browser: Any) -> None:
    """beta's test_mem_grows stops at its pinned deviation of MEM: the page view shows MEM deviated and CONSUME not
    judged, the verdict filter finds that row, and the cell opens to say why."""
    browser.get((report / "pages" / "page-BIO_s_mem.html").as_uri() + "#stack=beta")
    cell = browser.find_element("css selector", f'tr[id="{CONSUME}"] td[data-stack=beta]')
    assert "not-judged" in (cell.get_attribute("class") or "").split()
    assert "expected-deviation" in (browser.find_element("css selector", f'tr[id="{MEM}"] td[data-stack=beta]')
                                    .get_attribute("class") or "").split()
    _select(browser, "verdict", "not-judged")
    rows = browser.execute_script("return Array.from(document.querySelectorAll('tr.f:not([hidden])')).map(e => e.id)")
    assert rows == [CONSUME]
    cell.find_element("tag name", "summary").click()
    assert "test_mem_grows stopped at the pinned deviation of " + MEM in cell.text


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.options: set[str] = set()
        self._option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        if tag == "option":
            self._option = values.get("value")
            if self._option is None:
                self._option = ""
                self.options.add("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._option is not None:
            self.options.add(self._option)
            self._option = None

    def handle_data(self, data: str) -> None:
        if self._option == "":
            self._option = data  # an option without a value attribute: its text is its value


def _parse(path: Path, cache: dict[Path, _Links]) -> _Links:
    if path not in cache:
        parser = _Links()
        parser.feed(path.read_text(encoding="utf-8"))
        cache[path] = parser
    return cache[path]


def test_every_link_of_every_page_resolves(report: Path) -> None:
    pages = sorted(report.rglob("*.html"))
    assert len(pages) > 8
    cache: dict[Path, _Links] = {}
    checked = 0
    for page in pages:
        for href in _parse(page, cache).links:
            parts = urlsplit(href)
            assert not parts.scheme and not parts.netloc, f"{page.name}: {href} leaves the report folder"
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            assert target.is_file(), f"{page.relative_to(report)}: {href} -> no such file"
            assert report.resolve() in target.parents, f"{page.name}: {href} leaves the report folder"
            fragment = unquote(parts.fragment)
            if "=" in fragment:  # filter state: every value must be an option of the target's filters
                for pair in fragment.split("&"):
                    key, _, value = pair.partition("=")
                    assert value in _parse(target, cache).options, f"{page.name}: {href}: no {key} {value}"
            elif fragment:
                assert fragment in _parse(target, cache).ids, f"{page.name}: {href}: no id {fragment}"
            checked += 1
    assert checked > 100


def test_nothing_is_wider_than_1280_px(report: Path, browser: Any) -> None:
    pages = [report / "index.html", *sorted((report / "pages").glob("*.html"))]
    wide = []
    for page in pages:
        browser.get(page.as_uri())
        browser.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
        width = browser.execute_script("return document.documentElement.scrollWidth")
        inner = browser.execute_script("return document.documentElement.clientWidth")
        if width > inner:
            wide.append(f"{page.name}: {width} px in {inner} px")
    assert wide == []
    assert re.search(r"new failures", (report / "pages" / "changes.html").read_text())
