"""The HTML report: what it shows for a run, how it escapes the program's data, how it scales."""

from __future__ import annotations

import html as html_lib
import os
import re
import subprocess
import sys
import sysconfig
import textwrap
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from corpus_tools import clean_env, run_racewatch
from markupsafe import escape

from racewatch.reports import html
from racewatch.reports.model import (
    AccessInfo,
    Container,
    Frame,
    LockRef,
    Race,
    Report,
    Summary,
    SyncEvent,
    ThreadRef,
    Timeline,
)

EXAMPLES = Path(__file__).parent.parent / "examples"
STDLIB_THREADING = str(Path(sysconfig.get_paths()["stdlib"]) / "threading.py")
HOSTILE = "</script><script>alert(1)</script>"

SHOP = '''\
import threading

stock = {"apple": 10}


def reserve(item):
    if stock.get(item, 0) > 0:
        stock[item] -= 1


def restock(item, n):
    stock[item] = n


def count():
    return len(stock)
'''
# Lines of SHOP, as the races below name them.
GET_LINE, DECREMENT_LINE, RESTOCK_LINE, LEN_LINE = 7, 8, 12, 16


# -- building models by hand ---------------------------------------------------------------


def write_source(tmp_path: Path, name: str = "shop.py", text: str = SHOP) -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def thread(name: str, tid: int, created: list[Frame] | None = None) -> ThreadRef:
    return ThreadRef(name, tid, created if created is not None else [Frame("main.py", 3, "main")])


def access(op: str, write: bool, t: ThreadRef, stack: list[Frame],
           locks: list[LockRef] | None = None, key: str | None = None) -> AccessInfo:
    # A key on an access is the key an insert or delete touched: an update of the keys.
    return AccessInfo(op, write, t, locks or [], stack, key, update=key is not None)


def timeline(previous_events=(), current_events=(), truncated=False) -> Timeline:
    return Timeline(0.010, 0.012, list(previous_events), list(current_events), truncated)


def make_race(source: str, *, key: str = "'apple'", count: int = 3, tests=(),
              with_timeline: bool = True, writer: str = "worker-1",
              reader: str = "worker-2") -> Race:
    """worker-2 reads ``stock[key]`` after worker-1 wrote it, with nothing between."""
    main = Frame(source, 20, "main")
    earlier = access("setitem", True, thread(writer, 1, [main]),
                     [Frame(source, DECREMENT_LINE, "reserve"), Frame(source, 30, "run")],
                     locks=[LockRef("Lock#7", [Frame(source, 4, "<module>")])])
    later = access("get", False, thread(reader, 2, [main]),
                   [Frame(source, GET_LINE, "reserve"), Frame(STDLIB_THREADING, 1010, "run")])
    tl = timeline([SyncEvent(0.0105, "release", "Lock#7", Frame(source, 9, "reserve"))],
                  [SyncEvent(0.011, "acquire", "Lock#8", Frame(source, 10, "other"))])
    return Race("write/read", Container("dict", [Frame(source, 3, "<module>")]), key,
                later, earlier, count=count, tests=list(tests),
                timeline=tl if with_timeline else None)


def make_keys_race(source: str) -> Race:
    earlier = access("setitem", True, thread("loader", 1), [Frame(source, RESTOCK_LINE, "restock")],
                     key="'pear'")
    later = access("len", False, thread("MainThread", 0, []), [Frame(source, LEN_LINE, "count")])
    return Race("write/read", Container("defaultdict", [Frame(source, 3, "<module>")]), None,
                later, earlier, location="keys", timeline=None)


def make_report(races: list[Race], **summary) -> Report:
    fields = dict(races=len(races), occurrences=sum(r.count for r in races), threads=3,
                  dicts_tracked=2, accesses=40, duration_s=1.25, python="CPython 3.12.1",
                  command=["app.py", "--fast"], pid=4242, peak_rss_mb=31.5)
    fields.update(summary)
    return Report("0.1.0", races, Summary(**fields))


class Page(HTMLParser):
    """The parts of a page the safety checks look at."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.elements
                if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]


def marked_line(page: str, line: int) -> str:
    """The text of the racing line ``line``, marked in an open race's source."""
    found = re.search(rf'<span class="ln mark" data-n="{line}">(.*?)</span>', page)
    assert found, f"line {line} is not marked"
    return html_lib.unescape(found.group(1))


# -- the summary -----------------------------------------------------------------------------


def test_summary_shows_the_run(tmp_path):
    source = write_source(tmp_path)
    report = make_report([make_race(source, count=3), make_race(source, count=2, key="'x'")],
                         occurrences=5, suppressed=4,
                         tracking_cut="tracking cut 2.0 s into the run: resident memory",
                         recycled_thread_slots=7, forgotten_deleted_keys=1234,
                         forgotten_missing_keys=56789)
    page = html.render(report)
    assert "2 distinct data races" in page and "seen 5 times" in page
    assert "2 distinct, 5 occurrences" in page
    assert "<code>app.py --fast</code>" in page
    assert "CPython 3.12.1" in page
    assert "1.25 s" in page
    assert "Threads seen</dt><dd>3" in page
    assert "31.5 MB peak resident" in page
    assert "tracking cut 2.0 s into the run" in page
    assert "Suppressed:</strong> 4 occurrences" in page
    assert "Recycled thread slots:</strong> 7" in page
    assert "a race with one of those long-gone threads may have been missed" in page
    assert "Forgotten deleted keys:</strong> 1,234" in page
    assert "race between such an old delete and a later access" in page
    assert "Forgotten lookups of missing keys:</strong> 56,789" in page
    assert "race between such an old lookup and a later insert" in page


def test_summary_leaves_out_what_did_not_happen(tmp_path):
    page = html.render(make_report([make_race(write_source(tmp_path))]))
    for absent in ("Tracking was cut", "Suppressed", "Recycled thread slots",
                   "Forgotten deleted keys", "Forgotten lookups", "Test run"):
        assert absent not in page


def test_a_test_run_says_so(tmp_path):
    race = make_race(write_source(tmp_path), tests=["tests/test_shop.py::test_reserve"])
    page = html.render(make_report([race], command=["pytest", "-n", "2", "tests"]))
    assert "Test run</dt><dd><code>pytest -n 2 tests</code>" in page
    assert "Tests with races</dt><dd>1" in page


def test_no_races_is_a_clear_page():
    page = html.render(make_report([], occurrences=0, command=["app.py"]))
    assert "No races found." in page
    assert "racewatch: no races found in app.py" in page
    assert 'class="race"' not in page and 'class="toolbar"' not in page


def test_title_and_strip_path_prefix(tmp_path):
    source = write_source(tmp_path)
    page = html.render(make_report([make_race(source)]), title="Nightly soak",
                       strip_path_prefix=str(tmp_path) + os.sep)
    assert "<title>Nightly soak</title>" in page
    assert "shop.py:8" in page
    assert str(tmp_path) not in page


# -- one race --------------------------------------------------------------------------------


def test_race_section_shows_both_accesses(tmp_path):
    source = write_source(tmp_path)
    page = html.render(make_report([make_race(source, tests=["tests/test_a.py::test_one",
                                                             "tests/test_b.py::test_two"])]))
    # The pattern in plain words, later access first, as ThreadSanitizer puts it.
    assert ("Read of key &#39;apple&#39; (d.get(k)) in thread worker-2 races with an earlier "
            "write (d[k] = v) in thread worker-1") in page
    assert "write/read" in page
    assert "key <code class=\"key\">&#39;apple&#39;</code>" in page
    assert "<code>dict</code>, created at:" in page and f"{source}:3" in page
    # Both stacks, each frame, and the racing lines marked in their source.
    for fn, line in (("reserve", DECREMENT_LINE), ("run", 30), ("reserve", GET_LINE)):
        assert f'<span class="fn">{fn}</span> <span class="loc">{source}:{line}</span>' in page
    assert marked_line(page, GET_LINE) == "    if stock.get(item, 0) > 0:"
    assert marked_line(page, DECREMENT_LINE) == "        stock[item] -= 1"
    # The threads, where they were started, and the locks each side held.
    assert "T1 &#39;worker-1&#39;" in page and "T2 &#39;worker-2&#39;" in page
    assert f'<span class="fn">main</span> <span class="loc">{source}:20</span>' in page
    assert f'<code>Lock#7</code> <span class="loc">created at {source}:4 in &lt;module&gt;' in page
    assert '<dd class="locks">none</dd>' in page        # the reader held no lock
    assert "×3" in page and "3 times" in page
    assert "<code>tests/test_a.py::test_one</code>" in page
    assert "<code>tests/test_b.py::test_two</code>" in page


def test_collapsed_races_take_stacks_and_source_from_the_shared_part(tmp_path):
    source = write_source(tmp_path)
    races = [make_race(source, key=f"'k{i}'") for i in range(html.OPEN_RACES)]
    races.append(make_keys_race(source))
    text = html.render(make_report(races))
    page = Page(text)
    ids = {a["id"] for _, a in page.elements if "id" in a}
    refs = [a for _, a in page.elements if "data-ref" in a or "data-file" in a]
    assert refs
    for ref in refs:
        target = ref.get("data-ref") or f"{ref['data-file']}-{ref['data-line']}"
        assert target in ids, ref
    # The collapsed race's racing line is in the shared part once, with its context.
    table = page.find("span", **{"class": "ln", "data-n": str(LEN_LINE)})
    assert len(table) == 1 and table[0]["id"].endswith(f"-{LEN_LINE}")
    assert len(page.find("span", **{"class": "ln", "data-n": str(LEN_LINE - 3)})) == 1


def test_keys_location_says_what_it_means(tmp_path):
    source = write_source(tmp_path)
    page = html.render(make_report([make_keys_race(source)]))
    assert ("len() of the defaultdict in thread MainThread races with an earlier insert of "
            "key &#39;pear&#39; (d[k] = v) in thread loader") in page
    assert "the keys of the defaultdict (its set of keys, size and order)" in page
    assert "The location here is the dict&#39;s set of keys" in page
    assert "T0 &#39;MainThread&#39;</b>: the main thread" in page


def test_library_frames_are_folded_and_user_frames_are_not(tmp_path):
    source = write_source(tmp_path)
    page = html.render(make_report([make_race(source)]))
    folded = re.findall(r'<li class="lib"><details><summary>(\d+) library frames?</summary>'
                        r'.*?</details></li>', page, re.S)
    assert folded == ["1"]
    lib = page.index('<li class="lib">')
    short = html.library_path(STDLIB_THREADING)
    assert re.fullmatch(r"python3\.\d+t?/threading\.py", short)
    assert page.index(f'<span class="loc" title="{STDLIB_THREADING}">{short}:1010</span>') > lib
    assert html.is_library(STDLIB_THREADING)
    assert html.is_library("/opt/venv/lib/python3.12/site-packages/requests/api.py")
    assert not html.is_library(source)


def test_innermost_frame_is_shown_even_in_a_library(tmp_path):
    race = make_race(write_source(tmp_path))
    race.current.stack = [Frame(STDLIB_THREADING, 1010, "run")]
    page = html.render(make_report([race]))
    assert '<li class="lib">' not in page.split('class="access later')[1]


def test_missing_source_is_said(tmp_path):
    source = write_source(tmp_path)
    race = make_race(source)
    race.current.stack = [Frame(str(tmp_path / "gone.py"), 5, "vanished")]
    race.previous.stack = [Frame(source, 999, "moved")]
    page = html.render(make_report([race]))
    assert "source not available: the file could not be read" in page
    assert "source not available: the file has 16 lines now" in page


def test_empty_stacks_and_unknown_threads_are_said(tmp_path):
    source = write_source(tmp_path)
    race = make_race(source)
    race.current.stack = race.previous.stack = race.container.created_at = []
    race.current.thread.created_at = []
    collapsed = [make_race(source) for _ in range(html.OPEN_RACES)]
    collapsed[-1].current.stack = []
    page = html.render(make_report([race, *collapsed]))
    assert page.count("(no frames recorded)") == 4
    assert "a thread started before racewatch, or outside threading" in page


# -- the picture -----------------------------------------------------------------------------


def test_picture_draws_both_lanes_and_the_sync_events(tmp_path):
    page = html.render(make_report([make_race(write_source(tmp_path))]))
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert "T1 &#39;worker-1&#39;" in svg and "T2 &#39;worker-2&#39;" in svg
    assert "write: d[k] = v" in svg and "read: d.get(k)" in svg
    assert "release Lock#7" in svg and "acquire Lock#8" in svg
    assert svg.count('class="mk access') == 2
    assert svg.count('class="mk release') == 1 and svg.count('class="mk acquire') == 1
    assert "+0.500 ms" in svg and "+2.0 ms" in svg
    assert "No arrow joins the lanes" in page


def test_picture_rows_follow_time_across_lanes(tmp_path):
    source = write_source(tmp_path)
    race = make_race(source)
    race.timeline = timeline([SyncEvent(0.0115, "put", "Queue#1")],
                             [SyncEvent(0.0102, "get", "Queue#2")])
    pic = html.picture(race)
    assert [(m.lane, m.kind, m.label) for m in pic.marks] == [
        (0, "access", "write: d[k] = v"), (1, "acquire", "get Queue#2"),
        (0, "release", "put Queue#1"), (1, "access", "read: d.get(k)")]


def test_picture_without_timeline_draws_the_accesses_only(tmp_path):
    page = html.render(make_report([make_race(write_source(tmp_path), with_timeline=False)]))
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert svg.count('class="mk ') == 2
    assert "Synchronization events were not recorded for this race" in page


def test_picture_folds_a_lock_taken_in_a_loop_into_one_row(tmp_path):
    race = make_race(write_source(tmp_path))
    events = [SyncEvent(0.010 + i * 1e-5, "release" if i % 2 else "acquire", "Lock#1")
              for i in range(128)]
    race.timeline = timeline(events, [SyncEvent(0.0111, "acquire", "Lock#2")])
    pic = html.picture(race)
    assert [m.label for m in pic.marks] == [
        "write: d[k] = v", "acquire/release Lock#1 ×128", "acquire Lock#2", "read: d.get(k)"]


def test_picture_of_a_busy_thread_folds_the_middle(tmp_path):
    race = make_race(write_source(tmp_path))
    events = [SyncEvent(0.010 + i * 1e-5, "put", f"Queue#{i}") for i in range(100)]
    race.timeline = timeline(events, [], truncated=True)
    pic = html.picture(race)
    assert len(pic.marks) == 2 + html.EVENTS_PER_LANE + 1
    assert "… 88 more events" in [m.label for m in pic.marks]
    assert "Older events of a thread were no longer kept." in html.render(make_report([race]))


# -- hostile data ----------------------------------------------------------------------------


def hostile_report(tmp_path: Path) -> tuple[Report, str]:
    directory = tmp_path / '"><svg onload=alert(1)>' / "<script>alert(1)"
    source = write_source(directory, "x'y\".py",
                          f'd = {{}}\n\n\ndef f():\n    d["{HOSTILE}"] = 1\n')
    race = make_race(source, key=repr(HOSTILE), writer="<img src=x onerror=alert(1)>",
                     reader=HOSTILE, tests=[f"tests/test_x.py::test[{HOSTILE}]"])
    race.previous.stack = [Frame(source, 5, f"<lambda>{HOSTILE}")]
    race.previous.locks_held = [LockRef(HOSTILE, [Frame(source, 1, HOSTILE)])]
    race.container = Container(HOSTILE, [Frame(source, 1, HOSTILE)])
    race.timeline = timeline([SyncEvent(0.011, "release", HOSTILE, Frame(source, 5, HOSTILE))])
    keys = make_keys_race(source)
    keys.previous.key = repr(HOSTILE)
    report = make_report([race, keys], command=["app.py", HOSTILE], python=HOSTILE,
                         tracking_cut=HOSTILE)
    return report, source


def test_hostile_data_is_escaped_everywhere(tmp_path):
    report, source = hostile_report(tmp_path)
    text = html.render(report, title=HOSTILE)
    for raw in ("<script>alert", "<svg onload", "<img src=x", "</script><script>"):
        assert raw not in text
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in text
    page = Page(text)
    # One script, racewatch's own; no event handler attribute anywhere.
    assert len(page.scripts) == 1 and "alert" not in page.scripts[0]
    assert not [a for _, attrs in page.elements for a in attrs if a.startswith("on")]
    # No program data goes into an attribute: filters and sorting use indices.
    races = page.find("details", **{"class": "race"})
    assert races[0]["data-f"] == "0" and races[0]["data-x"] == "0"
    assert races[0]["data-p"] == "0" and races[0]["data-line"] == str(GET_LINE)
    data = {v for _, attrs in page.elements for k, v in attrs.items() if k.startswith("data-")}
    assert not [v for v in data if v and not re.fullmatch(r"[\w -]*", v)]
    # The hostile source line is shown, as text.
    assert marked_line(text, 5) == f'    d["{HOSTILE}"] = 1'


def test_hostile_filter_values_are_escaped_options(tmp_path):
    report, source = hostile_report(tmp_path)
    page = Page(html.render(report))
    options = [a for t, a in page.elements if t == "option"]
    assert {"value": "0"} in options                     # values are indices, never the data
    text = html.render(report)
    assert f'<option value="1">{escape(HOSTILE)}</option>' in text


def test_content_security_policy_allows_only_the_page_own_code(tmp_path):
    text = html.render(make_report([make_race(write_source(tmp_path))]))
    csp = Page(text).find("meta", http_equiv="Content-Security-Policy")[0]["content"]
    assert "default-src 'none'" in csp
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]+'", csp)
    assert "unsafe-inline" not in csp
    assert not re.search(r"\b(?:src|href)=\"(?:https?:)?//", text)


# -- many races --------------------------------------------------------------------------------


def many_races(tmp_path: Path, n: int = 1000) -> Report:
    """``n`` distinct races over a 200-line module: lines repeat, as in a real large run."""
    source = write_source(tmp_path, "big.py",
                          "".join(f"shared['k{i}'] = compute({i})  # line {i + 1}\n"
                                  for i in range(200)))
    races = []
    for i in range(n):
        a, b = i % 200 + 1, (i * 7 + 3) % 200 + 1
        race = make_race(source, key=f"'k{i}'", count=i % 17 + 1,
                         writer=f"worker-{i % 8}", reader=f"worker-{(i + 1) % 8}",
                         tests=[f"tests/test_big.py::test_{i % 50}"])
        race.previous.stack[0] = Frame(source, a, f"step_{a}")
        race.current.stack[0] = Frame(source, b, f"step_{b}")
        races.append(race)
    return make_report(races)


def test_a_thousand_races_stay_small(tmp_path):
    report = many_races(tmp_path)
    started = time.perf_counter()
    text = html.render(report)
    elapsed = time.perf_counter() - started
    size = len(text.encode("utf-8"))
    assert size < 5 * 1024 * 1024, f"{size / 1e6:.1f} MB"
    assert elapsed < 20, f"rendered in {elapsed:.1f} s"
    # Each line's source is in the page once, however many races name it.
    assert text.count('<figure class="src"') <= 200 + 10
    assert text.count("shared[&#39;k100&#39;] = compute(100)") == 1
    # Only the first few races are open when the page loads.
    assert len(re.findall(r'<details class="race"[^>]* open>', text)) == html.OPEN_RACES
    assert text.count('<details class="race"') == 1000


def test_write_is_atomic_and_readable(tmp_path):
    out = tmp_path / "sub" / "report.html"
    html.write(make_report([make_race(write_source(tmp_path))]), str(out))
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert os.listdir(out.parent) == ["report.html"]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


# -- real reports ----------------------------------------------------------------------------


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*_racy.py")), ids=lambda p: p.stem)
def test_real_report_renders(example, tmp_path):
    run = run_racewatch(tmp_path, example)
    assert run.status == 66, run.stderr
    report = Report.from_json(run.report)
    text = html.render(report)
    assert f"{len(report.races)} distinct data race" in text
    for race in report.races:
        # The pattern heads the race, its fix beside the accesses with its lines marked.
        assert f'<span class="headline">{escape(race.pattern.explanation)}</span>' in text
        assert f'<p class="fix-text">{escape(race.pattern.fix)}</p>' in text
        assert f'class="ln fixline" data-n="{race.pattern.root.line}"' in text
        for side in (race.current, race.previous):
            top = side.stack[0]
            assert escape(side.thread.name) in text
            expected = example.read_text().splitlines()[top.line - 1]
            assert marked_line(text, top.line) == expected
    assert "not recorded" in text or "No arrow joins the lanes" in text


def test_racewatch_run_writes_the_html_report(tmp_path):
    out = tmp_path / "report.html"
    run = run_racewatch(tmp_path, EXAMPLES / "counter_racy.py",
                        env=clean_env(RACEWATCH_OPTIONS=f"html={out}"))
    assert run.status == 66, run.stderr
    text = out.read_text()
    assert "counter_racy.py" in text and "hits[page] += 1" in text


def test_pytest_racewatch_html_names_the_tests(tmp_path):
    (tmp_path / "test_shop.py").write_text(SHOP + textwrap.dedent("""

        def test_reserve_in_threads():
            threads = [threading.Thread(target=reserve, args=("apple",)) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        """))
    out = tmp_path / "report.html"
    proc = subprocess.run([sys.executable, "-m", "pytest", "--racewatch",
                           f"--racewatch-html={out}", "-p", "no:cacheprovider", "test_shop.py"],
                          cwd=tmp_path, env=clean_env(), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    text = out.read_text()
    assert "Test run</dt><dd><code>pytest --racewatch" in text
    assert "<li><code>test_shop.py::test_reserve_in_threads</code></li>" in text
    assert marked_line(text, DECREMENT_LINE) == "        stock[item] -= 1"


def test_render_is_thread_safe(tmp_path):
    # A pytest-xdist controller or a server may render reports from several threads.
    report = make_report([make_race(write_source(tmp_path))])
    expected = html.render(report)
    results = []
    threads = [threading.Thread(target=lambda: results.append(html.render(report)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4
