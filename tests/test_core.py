"""The two cores: RACEWATCH_CORE chooses one at import, the summary says which ran, the
compiled core's tracked dicts leave tracebacks exactly as plain dicts leave them, and
either core stays whole when a key's own Python code runs in the middle of its lookups."""

import json
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from corpus_tools import TIMEOUT, active_core, clean_env, run_plain, run_racewatch

import racewatch

try:
    from racewatch import _core as compiled
except ImportError:
    compiled = None
BUILT = hasattr(compiled, "SETTINGS")  # (without it: the directory of its C sources)

needs_compiled = pytest.mark.skipif(not BUILT, reason="the compiled core is not built here")

WHICH = "from racewatch.runtime import core; print(core.NAME)"


def python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=TIMEOUT, env=clean_env(**env))


@pytest.mark.parametrize("value, expected", [
    ("python", "python"),
    ("PYTHON", "python"),
    ("auto", "c" if BUILT else "python"),
    ("", "c" if BUILT else "python"),
    pytest.param("c", "c", marks=needs_compiled),
    pytest.param(" c ", "c", marks=needs_compiled),
])
def test_the_variable_chooses_the_core(value, expected):
    run = python(WHICH, RACEWATCH_CORE=value)
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"{expected}\n"


def test_unset_is_auto():
    env = clean_env()
    env.pop("RACEWATCH_CORE", None)
    run = subprocess.run([sys.executable, "-c", WHICH], capture_output=True, text=True,
                         timeout=TIMEOUT, env=env)
    assert run.stdout == ("c\n" if BUILT else "python\n"), run.stderr


@needs_compiled
def test_each_core_runs_its_own_types():
    code = ("from racewatch.runtime import shadow, tracked; "
            "print(tracked.TrackedDict.__module__, type(shadow.Shadow).__name__, "
            "shadow.Shadow.__module__)")
    assert python(code, RACEWATCH_CORE="c").stdout == "builtins type racewatch._core\n"
    assert python(code, RACEWATCH_CORE="python").stdout == \
        "builtins type racewatch.runtime.shadow\n"


def test_an_unbuilt_compiled_core_is_a_clear_error_for_c_and_a_fallback_for_auto():
    hide = "import sys; sys.modules['racewatch._core'] = None; "
    run = python(hide + WHICH, RACEWATCH_CORE="c")
    assert run.returncode != 0
    last = run.stderr.strip().splitlines()[-1]
    assert "RACEWATCH_CORE=c" in last and "racewatch._core" in last, run.stderr
    assert "RACEWATCH_CORE=python" in last
    assert python(hide + WHICH, RACEWATCH_CORE="auto").stdout == "python\n"


def test_an_unknown_value_is_a_clear_error(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text("print('ran')\n")
    run = run_racewatch(tmp_path, script, env=clean_env(RACEWATCH_CORE="fortran"))
    assert run.status != 0
    assert "ran" not in run.stdout
    last = run.stderr.strip().splitlines()[-1]
    assert "RACEWATCH_CORE='fortran'" in last and "c, python or auto" in last, run.stderr


def test_an_unknown_value_in_staging_warns_and_runs_the_program_unwatched(tmp_path):
    script = tmp_path / "app.py"
    script.write_text("print({'ran': True})\n")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=TIMEOUT, cwd=tmp_path,
                         env=clean_env(RACEWATCH="1", RACEWATCH_CORE="fortran"))
    assert run.returncode == 0
    assert run.stdout == "{'ran': True}\n"
    assert "RACEWATCH_CORE='fortran'" in run.stderr
    assert "runs unwatched" in run.stderr


@pytest.mark.parametrize("core", ["python", pytest.param("c", marks=needs_compiled)])
def test_the_summary_says_which_core_ran(tmp_path, core):
    script = tmp_path / "prog.py"
    script.write_text("d = {}\nd['k'] = 1\n")
    run = run_racewatch(tmp_path, script, env=clean_env(RACEWATCH_CORE=core))
    assert run.status == 0, run.stderr
    assert run.report["summary"]["core"] == core


def test_an_old_report_without_the_field_still_loads():
    from racewatch.reports.model import Summary

    summary = Summary.from_json({"races": 0})
    assert summary.core == ""
    assert json.loads(json.dumps(Summary(core="c").to_json()))["core"] == "c"


# -- the compiled core leaves no frame in a traceback, on every version --------------------

FAILING = {
    "missing_key": """\
        d = {"present": 1}
        d["missing"]
        """,
    "defaultdict_factory": """\
        from collections import defaultdict

        def factory():
            raise ValueError("no default")

        dd = defaultdict(factory)
        dd["k"]
        """,
    "unhashable": """\
        d = {}
        d[[1]] = 2
        """,
    "pop_missing": """\
        d = {"a": 1}
        d.pop("b")
        """,
}


@needs_compiled
@pytest.mark.parametrize("name", FAILING)
def test_an_uncaught_exception_prints_as_under_plain_python(tmp_path, name):
    script = tmp_path / f"{name}.py"
    script.write_text(textwrap.dedent(FAILING[name]))
    plain = run_plain(script)
    watched = run_racewatch(tmp_path, script, env=clean_env(RACEWATCH_CORE="c"))
    assert plain.status == watched.status == 1
    assert "Traceback" in plain.stderr
    assert watched.stderr == plain.stderr + "racewatch: no races found\n"


@needs_compiled
def test_a_caught_traceback_is_the_plain_one(tmp_path):
    """What tracebacks.py cannot clean: a traceback the program formats itself.  The
    pure-Python core's method shows there on 3.10; the compiled core has no frame."""
    script = tmp_path / "caught.py"
    script.write_text(textwrap.dedent("""\
        import traceback
        from collections import defaultdict

        def explode():
            raise KeyError("inner")

        for action in (lambda: {}["k"], lambda: defaultdict(explode)["k"],
                       lambda: {}.pop("k"), lambda: {"a": 1}.__getitem__("b")):
            try:
                action()
            except KeyError:
                print(traceback.format_exc())
        """))
    plain = run_plain(script)
    watched = run_racewatch(tmp_path, script, env=clean_env(RACEWATCH_CORE="c"))
    assert watched.status == plain.status == 0, watched.stderr
    assert "racewatch" not in watched.stdout
    assert watched.stdout == plain.stdout


@pytest.mark.skipif(active_core() != "c", reason="the suite runs the pure-Python core")
def test_the_suite_runs_the_compiled_core_in_its_subprocesses(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text("d = {}\n")
    assert run_racewatch(tmp_path, script).report["summary"]["core"] == "c"


# -- consistency: Python code in the middle of a lookup -------------------------------------


class SlowKey:
    """A key whose __hash__ and __eq__ run Python code and let other threads run."""

    def __init__(self, name, dict_to_touch=None):
        self.name = name
        self.touch = dict_to_touch

    def __hash__(self):
        time.sleep(0)  # a thread switch, in the middle of the detector's own lookups
        if self.touch is not None:
            len(self.touch)  # a re-entrant access: ignored, never waited for
        return hash(self.name) & 7  # collisions: __eq__ runs too

    def __eq__(self, other):
        time.sleep(0)
        return isinstance(other, SlowKey) and other.name == self.name


@pytest.fixture
def detector():
    from racewatch import session
    from racewatch.config import Options

    active = session.start(Options(), instrument=False, print_races=False)
    try:
        yield active
    finally:
        session.stop()


def run_threads(target, n):
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_keys_that_switch_threads_mid_lookup_leave_the_detector_whole(detector):
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        shared = racewatch.track({})
        keys = [SlowKey(f"k{i}", shared) for i in range(24)]
        lock = threading.Lock()

        def locked(n):
            for i in range(300):
                key = keys[(i * 7 + n) % len(keys)]
                with lock:
                    shared[key] = shared.get(key, 0) + 1
                    if i % 5 == 0:
                        del shared[key]

        run_threads(locked, 3)  # (with the main thread, the 4 clock slots test_engine allows)
        assert detector.report().races == []

        racy = racewatch.track({})

        def unlocked(n):
            for i in range(100):
                racy[keys[i % 6]] = n

        run_threads(unlocked, 3)
        assert detector.report().races
    finally:
        sys.setswitchinterval(old)


def test_a_key_that_reads_the_dict_from_its_hash_is_not_waited_for(detector):
    shared = racewatch.track({})
    key = SlowKey("re-entrant", shared)
    done = []

    def worker(n):
        for _ in range(50):
            shared[key] = n
            _ = key in shared
        done.append(n)

    thread = threading.Thread(target=worker, args=(1,), daemon=True)
    thread.start()
    worker(0)
    thread.join(timeout=30)
    assert not thread.is_alive() and sorted(done) == [0, 1]
    assert detector.report().races  # the two threads' writes are not ordered


# -- the same races, the same reports -------------------------------------------------------

MANY_RACES = textwrap.dedent("""\
    # Two threads touch shared dicts one after the other, with nothing ordering them.
    import threading
    import time
    from collections import defaultdict, deque

    shared = {"a": 1, "b": 2, "c": 3}
    counts = defaultdict(int)
    nested = defaultdict(dict)
    log = deque()  # not tracked: polling it adds no race of its own


    def first():
        shared["a"] = 10
        shared.get("b")
        "c" in shared
        shared.setdefault("d", 4)
        shared.update({"e": 5}, f=6)
        shared.pop("b")
        len(shared)
        list(shared.items())
        counts["x"] += 1
        nested["k"]["v"] = 1
        repr(shared)
        shared.copy()
        log.append("first done")


    def second():
        global shared
        shared["a"]
        shared["b"] = 20
        shared["c"] = 30
        shared |= {"d": 40}
        del shared["e"]
        shared == {"x": 1}
        for _ in shared:
            pass
        shared.popitem()
        counts["x"]
        nested["k"].get("v")
        shared.clear()


    thread = threading.Thread(target=first)
    thread.start()
    while not log:          # not synchronization: the two threads stay unordered
        time.sleep(0.001)
    second()
    thread.join()
    """)


MANY_SEQUENCE_RACES = textwrap.dedent("""\
    # Two threads touch shared lists and sets one after the other, with nothing ordering them.
    import copy
    import pickle
    import threading
    import time
    from collections import deque

    items = [0, 1, 2, 3, 4, 5]
    queue = [10, 11, 12]
    grid = [0] * 4
    members = {"a", "b", "c"}
    tags = {1, 2, 3}
    log = deque()  # not tracked: polling it adds no race of its own (nor a count that
                   # depends on how often the main thread polled)


    def first():
        global items, members, tags
        items[0] = 1
        items[-1]
        items.append(6)
        items.insert(1, 7)
        items.extend([8, 9])
        items += [10]
        items.pop()
        items.pop(0)
        3 in items
        items.index(3)
        items.count(2)
        items[1:3]
        queue.pop(0)
        grid[2] += 1
        items.remove(8)
        del items[2]
        sorted(items)
        members.add("d")
        members.add("a")
        members.discard("b")
        members.discard("z")
        "c" in members
        members.update({"e", "f"})
        members |= {"g"}
        members -= {"c"}
        tags & {2, 3}
        tags.symmetric_difference_update({3, 4})
        tags.intersection_update({1, 2, 3, 4})
        len(tags)
        copy.deepcopy(items)
        pickle.dumps(members)
        tags.update(grid)
        log.append("first done")


    def second():
        global items, members, tags
        items[0]
        items[1] = 20
        len(items)
        items == [1]
        items < [1]
        items * 2
        items + [1]
        list(items)
        items.copy()
        queue[0]
        grid[2] = 5
        repr(items)
        items.sort()
        items.reverse()
        items[0:2] = [1, 2, 3]
        del items[0:1]
        items *= 2
        items.clear()
        "d" in members
        "z" in members
        members.remove("a")
        members.pop()
        set(members)
        sorted(tags)
        tags.issubset({1, 2})
        tags ^= {9}
        tags &= {1, 9}
        tags.difference_update({1})
        repr(tags)
        tags == {1}
        grid.extend(tags)
        members.clear()


    thread = threading.Thread(target=first)
    thread.start()
    while not log:          # not synchronization: the two threads stay unordered
        time.sleep(0.001)
    second()
    thread.join()
    """)


def races_seen(report: dict) -> list:
    """What a user reads in a report, less its times and paths."""
    def lines(frames):
        return [(f["function"], f["line"]) for f in frames]

    return [(r["kind"], r["key"], r["location"], r["count"], r["container"]["type"],
             r["pattern"]["id"], r["pattern"]["explanation"],
             lines(r["container"]["created_at"]),
             [(a["op"], a["write"], a.get("key"), a["thread"]["name"], lines(a["stack"]))
              for a in (r["current"], r["previous"])])
            for r in report["races"]]


@needs_compiled
@pytest.mark.parametrize("source", [MANY_RACES, MANY_SEQUENCE_RACES], ids=["dicts", "lists-sets"])
def test_both_cores_report_the_same_races(tmp_path, source):
    program = tmp_path / "many_races.py"
    program.write_text(source)
    reports = {}
    for core in ("c", "python"):
        # One hash seed: which element set.pop() takes depends on the strings' hashes.
        env = clean_env(RACEWATCH_CORE=core, PYTHONHASHSEED="0")
        run = run_racewatch(tmp_path, program, env=env)
        assert run.status == 66, run.stderr
        reports[core] = run.report
    assert len(reports["c"]["races"]) >= 10
    assert races_seen(reports["c"]) == races_seen(reports["python"])
    for field in ("races", "occurrences", "accesses", "dicts_tracked", "lists_tracked",
                  "sets_tracked", "threads"):
        assert reports["c"]["summary"][field] == reports["python"]["summary"][field], field
