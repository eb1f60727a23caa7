"""The HTML report in a real browser: headless Chromium from Debian, driven by Playwright.

Nothing is downloaded: Playwright drives /usr/bin/chromium (``apt-get install chromium``),
never a browser of its own.  Every test fails on any request that is not for the file.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from corpus_tools import run_racewatch
from freethreading import FREE_THREADED, GIL_FORCED_OFF, enables_the_gil

# Another path (RACEWATCH_TEST_CHROMIUM) for a browser elsewhere, or none, as
# test_readme.py checks what pytest says without one.
CHROMIUM = os.environ.get("RACEWATCH_TEST_CHROMIUM", "/usr/bin/chromium")

# Playwright's sync API runs on greenlet, whose releases up to 3.2 have not declared
# themselves safe without the GIL: on a free-threaded build their import turns it on for the
# rest of the run, unless PYTHON_GIL=0 keeps it off (what CI does).
if FREE_THREADED and not GIL_FORCED_OFF and enables_the_gil("playwright.sync_api"):
    pytest.skip("importing Playwright (its greenlet) turns the GIL on: run with PYTHON_GIL=0",
                allow_module_level=True)

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed (pip install playwright)")

expect = sync_api.expect

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")

from test_html import (  # noqa: E402  (after the skips: they must come first)
    HOSTILE,
    hostile_report,
    make_race,
    make_report,
    many_races,
    write_source,
)

from racewatch.reports import html  # noqa: E402
from racewatch.reports.model import Frame, Race, Report  # noqa: E402

EXAMPLES = Path(__file__).parent.parent / "examples"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
# A payload that, were it ever run, leaves a trace the test can see.
PWN = '</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


class Watched:
    """A page, and what it tried to do behind the reader's back."""

    def __init__(self, page):
        self.page = page
        self.outside: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("request", self._request)
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.route("**/*", self._route)

    def _request(self, request):
        if not request.url.startswith("file://"):
            self.outside.append(request.url)

    def _route(self, route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, path: Path, fragment: str = "") -> None:
        self.page.goto(path.as_uri() + fragment, wait_until="load")

    def check_clean(self) -> None:
        assert self.outside == [], "the page made requests"
        assert self.dialogs == [], "the page opened dialogs"
        assert self.errors == [], "the page's script failed"
        assert self.page.evaluate("typeof window.__pwned") == "undefined"


@pytest.fixture
def view(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    watched = Watched(context.new_page())
    yield watched
    watched.check_clean()
    context.close()


def write_page(tmp_path: Path, report: Report, name: str = "report.html") -> Path:
    path = tmp_path / name
    html.write(report, str(path))
    return path


def race_locator(view: Watched, number: int):
    return view.page.locator(f"#race-{number}")


# -- a real report -----------------------------------------------------------------------------


def test_real_report_shows_both_stacks_marked_lines_and_picture(view, tmp_path):
    example = EXAMPLES / "counter_racy.py"
    run = run_racewatch(tmp_path, example)
    path = write_page(tmp_path, Report.from_json(run.report))
    view.open(path)
    race = race_locator(view, 1)
    assert race.get_attribute("open") is not None
    for side in ("earlier", "later"):
        access = race.locator(f".access.{side}")
        expect(access).to_be_visible()
        assert access.locator(".stack .fn").first.inner_text() == "handle"
        marked = access.locator(".code .mark")
        expect(marked).to_be_visible()
        assert marked.inner_text().strip() == "hits[page] += 1"
    expect(race.locator("svg.timeline")).to_be_visible()
    assert race.locator("svg.timeline .mk.access").count() == 2


def test_collapsed_race_fills_in_when_opened(view, tmp_path):
    path = write_page(tmp_path, many_races(tmp_path, 40))
    view.open(path)
    race = race_locator(view, 20)
    assert race.get_attribute("open") is None
    expect(race.locator(".access.later")).to_be_hidden()
    race.locator("summary").click()
    marked = race.locator(".access.later .code .mark")
    expect(marked).to_be_visible()
    expected = (tmp_path / "big.py").read_text().splitlines()[(19 * 7 + 3) % 200]
    assert marked.inner_text().strip() == expected
    assert race.locator(".access.earlier .stack .fn").first.inner_text().startswith("step_")
    assert race.locator(".lib summary").first.inner_text() == "1 library frame"
    expect(race.locator("svg.timeline")).to_be_visible()
    # The shared part stays out of sight once the script has moved things into place.
    expect(view.page.locator("#shared")).to_be_hidden()


def test_link_to_a_race_opens_it(view, tmp_path):
    path = write_page(tmp_path, many_races(tmp_path, 40))
    view.open(path, "#race-33")
    race = race_locator(view, 33)
    assert race.get_attribute("open") is not None
    expect(race.locator(".access.earlier .code .mark")).to_be_visible()


# -- navigation ----------------------------------------------------------------------------------


def visible_numbers(view: Watched) -> list[int]:
    return view.page.evaluate(
        "() => Array.from(document.querySelectorAll('#races > .race'))"
        ".filter(r => !r.hidden).map(r => +r.dataset.n)")


def select_label(view: Watched, control: str, label: str) -> None:
    view.page.select_option(control, label=label)


def test_filters_by_thread_file_test_and_text(view, tmp_path):
    source = write_source(tmp_path)
    other = write_source(tmp_path, "other.py")
    races = [make_race(source, key="'a'", writer="alpha", reader="beta",
                       tests=["tests/test_x.py::test_one"]),
             make_race(other, key="'b'", writer="gamma", reader="beta",
                       tests=["tests/test_x.py::test_two"]),
             make_race(source, key="'c'", writer="gamma", reader="delta",
                       tests=["tests/test_x.py::test_two"])]
    view.open(write_page(tmp_path, make_report(races)))
    assert visible_numbers(view) == [1, 2, 3]
    select_label(view, "#f-thread", "gamma")
    assert visible_numbers(view) == [2, 3]
    assert view.page.inner_text("#shown") == "2 of 3 shown"
    select_label(view, "#f-file", other)
    assert visible_numbers(view) == [2]
    select_label(view, "#f-thread", "all threads")
    select_label(view, "#f-file", "all files")
    select_label(view, "#f-test", "tests/test_x.py::test_two")
    assert visible_numbers(view) == [2, 3]
    select_label(view, "#f-test", "all tests")
    view.page.fill("#f-text", "'c'")
    assert visible_numbers(view) == [3]
    view.page.fill("#f-text", "")
    assert visible_numbers(view) == [1, 2, 3]


def test_sort_by_count_and_file(view, tmp_path):
    source = write_source(tmp_path, "b.py")
    first = write_source(tmp_path, "a.py")
    races = [make_race(source, key="'x'", count=2), make_race(source, key="'y'", count=9),
             make_race(first, key="'z'", count=5)]
    view.open(write_page(tmp_path, make_report(races)))
    view.page.select_option("#sort", "count")
    assert visible_numbers(view) == [2, 3, 1]
    view.page.select_option("#sort", "file")
    assert visible_numbers(view) == [3, 1, 2]
    view.page.select_option("#sort", "found")
    assert visible_numbers(view) == [1, 2, 3]


def test_expand_and_collapse_all(view, tmp_path):
    view.open(write_page(tmp_path, many_races(tmp_path, 12)))
    open_races = "document.querySelectorAll('#races > .race[open]').length"
    assert view.page.evaluate(open_races) == html.OPEN_RACES
    view.page.click("#expand")
    assert view.page.evaluate(open_races) == 12
    expect(race_locator(view, 12).locator(".access.later .code .mark")).to_be_visible()
    view.page.click("#collapse")
    assert view.page.evaluate(open_races) == 0


def test_print_expands_everything_and_hides_the_toolbar(view, tmp_path):
    view.open(write_page(tmp_path, many_races(tmp_path, 8)))
    view.page.emulate_media(media="print")
    view.page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    assert view.page.evaluate("document.querySelectorAll('details:not([open])').length") == 0
    expect(view.page.locator(".toolbar")).to_be_hidden()
    expect(race_locator(view, 8).locator(".access.earlier .code .mark")).to_be_visible()
    assert view.page.pdf()[:4] == b"%PDF"


def test_dark_mode_follows_the_system(browser, tmp_path):
    path = write_page(tmp_path, make_report([make_race(write_source(tmp_path))]))
    colors = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        page = context.new_page()
        page.goto(path.as_uri())
        colors[scheme] = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        context.close()
    assert colors == {"light": "rgb(255, 255, 255)", "dark": "rgb(13, 17, 23)"}


# -- hostile data ----------------------------------------------------------------------------------


def test_hostile_data_runs_no_script_and_shows_as_text(view, tmp_path):
    report, _ = hostile_report(tmp_path)
    for race in report.races:
        race.key = repr(PWN)
    race = report.races[0]
    race.current.thread.name = PWN
    race.tests = [PWN]
    # The last races are collapsed: their content comes in through the script's copying.
    source = race.previous.stack[0].file
    for _ in range(html.OPEN_RACES + 1):
        extra = make_race(write_source(tmp_path), key=repr(PWN), writer=PWN)
        extra.previous.stack = [Frame(source, 5, PWN), *extra.previous.stack]
        report.races.append(extra)
    view.open(write_page(tmp_path, report, "hostile.html"), "#race-2")
    view.page.click("#expand")
    last = race_locator(view, len(report.races))
    expect(last.locator(".access.earlier .code .mark")).to_be_visible()
    headline = race_locator(view, 1).locator(".headline").inner_text()
    assert repr(PWN) in headline and PWN in headline
    assert HOSTILE in view.page.locator(".code .mark").first.inner_text()
    assert HOSTILE in last.locator(".access.earlier .code .mark").inner_text()
    assert PWN in last.locator(".access.earlier .stack .fn").first.inner_text()
    assert view.page.locator("img").count() == 0
    view.page.select_option("#f-thread", label=PWN)
    assert visible_numbers(view) == [1, 3, 4, 5, 6]
    view.check_clean()


# -- a thousand races ------------------------------------------------------------------------------


def test_a_thousand_races_open_and_filter(view, tmp_path):
    path = write_page(tmp_path, many_races(tmp_path, 1000))
    size = path.stat().st_size
    started = time.perf_counter()
    view.open(path)
    loaded = time.perf_counter() - started
    timing = view.page.evaluate(
        "() => performance.getEntriesByType('navigation')[0].loadEventEnd")
    print(f"\n1,000 races: {size / 1e6:.2f} MB, load event after {timing:.0f} ms, "
          f"goto returned after {loaded:.2f} s")
    assert size < 5 * 1024 * 1024
    # How long the page takes to load is a measurement, printed above, not a check: a
    # timed assertion fails whenever the shared machine is busy.
    view.page.fill("#f-text", "'k999'")
    assert visible_numbers(view) == [1000]


# -- patterns and problems ---------------------------------------------------------------------


def test_a_problem_groups_its_races_and_a_collapsed_race_marks_the_lines_to_fix(view, tmp_path):
    """examples/settings_racy.py: one reload without the lock, read under it in three
    places: three races, one problem.  Races past the first few are collapsed: their fix's
    source comes in from the page's shared part when opened, the lines to change marked."""
    run = run_racewatch(tmp_path, EXAMPLES / "settings_racy.py")
    report = Report.from_json(run.report)
    # More races than are open on load: the same ones again, as copies.
    report.races += [Race.from_json(race.to_json()) for race in report.races]
    root = report.races[0].pattern.root.line
    view.open(write_page(tmp_path, report))
    problems = view.page.locator("#problems li")
    assert problems.count() == 1
    assert problems.first.locator(".pattern-name").inner_text() == "inconsistent locking"
    assert problems.first.locator("a").count() == len(report.races)
    last = race_locator(view, len(report.races))
    assert last.get_attribute("open") is None
    last.locator("summary").click()
    marked = last.locator(".fix .code .fixline")
    expect(marked).to_be_visible()
    assert marked.get_attribute("data-n") == str(root)
    assert marked.inner_text().strip() == 'settings["timeout"] = 2.5'
    view.page.select_option("#f-problem", index=1)
    assert view.page.locator("#races > .race:not([hidden])").count() == len(report.races)
