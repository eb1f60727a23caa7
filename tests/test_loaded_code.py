"""racewatch.start() in a running program: functions loaded before it get rewritten."""

import subprocess
import sys
import textwrap
import traceback
from pathlib import Path

from corpus_tools import clean_env, racewatch_command

from racewatch.instrument.loaded import rewrite_code
from racewatch.instrument.transform import compile_instrumented

calls = []


def fake_track(d):
    """Stands in for tracked.track: records what it was handed, returns it."""
    calls.append(d)
    return d


def rewritten(function):
    function.__code__ = rewrite_code(function.__code__, fake_track, {})
    return function


def test_displays_comprehensions_and_nested_code_are_tracked():
    def sample(items):
        base = {"a": 1}
        merged = {**base, "b": 2}
        squares = {x: x * x for x in items}

        def inner():
            return {"inner": True}

        gen = (dict() for _ in range(1))  # a call, not a display: left alone
        return base, merged, squares, inner(), list(gen), {k: {} for k in "xy"}

    expected = sample([1, 2])
    calls.clear()
    result = rewritten(sample)([1, 2])
    assert result == expected
    base, merged, squares, inner, from_call, comprehension = result
    handed = {id(d) for d in calls}
    made = [base, merged, squares, inner, comprehension, *comprehension.values()]
    assert all(id(d) in handed for d in made)
    assert id(from_call[0]) not in handed


def test_lists_and_sets_are_tracked_but_not_a_list_that_becomes_a_tuple():
    def sample(a, b):
        listed = [1, 2, 3]          # BUILD_LIST 0, then LIST_EXTEND of a constant tuple
        squares = [x * x for x in a]
        members = {a[0], b[0]}
        constant = {1, 2, 3}
        unique = {x for x in b}
        gathered = (*a, *b)         # a list made only to become a tuple
        return listed, squares, members, constant, unique, gathered, max(*a, *b)

    expected = sample([1, 2], [3])
    calls.clear()
    result = rewritten(sample)([1, 2], [3])
    assert result == expected
    assert sorted(map(id, calls)) == sorted(map(id, result[:5]))


def test_only_the_kinds_asked_for_are_rewritten():
    def sample():
        return {}, [], {1}

    calls.clear()
    sample.__code__ = rewrite_code(sample.__code__, fake_track, {}, ("dict",))
    made = sample()
    assert [id(c) for c in calls] == [id(made[0])]


def test_exceptions_and_line_numbers_are_unchanged():
    def failing(d):
        try:
            return {"x": d["missing"]}
        except KeyError:
            pass
        return {"y": {}}["z"]

    def trace(f):
        try:
            f({})
        except KeyError:
            return [(fr.lineno, fr.name) for fr in traceback.extract_tb(sys.exc_info()[2])]

    before = trace(failing)
    assert trace(rewritten(failing)) == before


def test_code_instrumented_from_source_is_left_alone():
    namespace = {}
    exec(compile_instrumented("def f():\n    return {}\n", "<src>"), namespace)
    code = namespace["f"].__code__
    assert rewrite_code(code, fake_track, {}) is code
    twice = rewrite_code(rewritten(lambda: {}).__code__, fake_track, {})
    assert sum(c is fake_track for c in twice.co_consts) == 1


def test_start_inside_a_program_tracks_what_loaded_functions_make(tmp_path):
    (tmp_path / "store.py").write_text(textwrap.dedent("""\
        class Cache:
            def __init__(self):
                self.data = {}

            def put(self, key, value):
                self.data[key] = value
        """))
    (tmp_path / "app.py").write_text(textwrap.dedent("""\
        import threading
        import racewatch
        import store

        shared = {}  # made before start(): not tracked

        def main():
            racewatch.start()
            cache = store.Cache()
            for target in (cache.put, shared.__setitem__):
                threads = [threading.Thread(target=target, args=("k", n)) for n in (1, 2)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
            report = racewatch.stop()
            print([(r.key, r.current.stack[0].function) for r in report.races])
            print(racewatch.is_tracked(store.Cache().data))

        main()
        """))
    run = subprocess.run([sys.executable, "app.py"], cwd=tmp_path, capture_output=True,
                         text=True, env=clean_env(), timeout=120)
    assert run.returncode == 0, run.stderr
    # One race, on the dict made after start() by the loaded method; none on the dict the
    # module made before start(); and the rewritten code is put back by stop().
    name = "Cache.put" if sys.version_info >= (3, 11) else "put"  # co_qualname is 3.11+
    assert run.stdout.splitlines() == [f"[(\"'k'\", '{name}')]", "False"]


# -- code that is running as start() is called ------------------------------------------------

WARNING = ("racewatch: warning: start() was called while {where} of app.py was running: the "
           "dicts it goes on to make (line {line} on) are not tracked; run the program with "
           "'racewatch run', or move that code into a function defined before start() or a "
           "module imported after it\n")


def run_app(tmp_path, source: str, *command: str):
    (tmp_path / "app.py").write_text(textwrap.dedent(source))
    return subprocess.run([*(command or (sys.executable,)), "app.py"], cwd=tmp_path,
                          capture_output=True, text=True, env=clean_env(), timeout=120)


def test_the_readme_snippet_does_what_it_says(tmp_path):
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    snippet = readme.split("### From your own code\n\n```python\n")[1].split("```")[0]
    run = run_app(tmp_path, snippet)
    assert (run.returncode, run.stdout) == (0, "races: 1\n"), run.stderr
    assert "racewatch: warning" not in run.stderr


RACY_AT_TOP_LEVEL = """\
    import threading

    import racewatch

    racewatch.start()
    hits = {}


    def count(page):
        hits[page] = hits.get(page, 0) + 1


    threads = [threading.Thread(target=count, args=("home",)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("races:", len(racewatch.stop().races))
    """


def test_start_at_a_scripts_module_level_warns_once(tmp_path):
    run = run_app(tmp_path, RACY_AT_TOP_LEVEL)
    assert (run.returncode, run.stdout) == (0, "races: 0\n"), run.stderr
    assert run.stderr == WARNING.format(where="the module level", line=5)


def test_no_warning_where_the_script_is_instrumented_already(tmp_path):
    run = run_app(tmp_path, RACY_AT_TOP_LEVEL, *racewatch_command("run"))
    assert run.stdout == "races: 1\n", run.stderr
    assert "racewatch: warning" not in run.stderr


def test_start_in_a_function_that_goes_on_to_make_dicts(tmp_path):
    run = run_app(tmp_path, """\
        import racewatch


        def main():
            racewatch.start()
            settings = {"verbose": True}
            racewatch.stop()
            return settings


        main()
        """)
    assert run.returncode == 0, run.stderr
    assert run.stderr == WARNING.format(where="main()", line=5)


def test_a_loop_brings_earlier_code_back(tmp_path):
    run = run_app(tmp_path, """\
        import racewatch

        for attempt in range(2):
            table = dict(attempt=attempt)
            if attempt == 0:
                racewatch.start()
        racewatch.stop()
        """)
    assert run.stderr == WARNING.format(where="the module level", line=6)


def test_no_warning_when_the_running_code_makes_no_dict(tmp_path):
    run = run_app(tmp_path, """\
        import racewatch


        def main():
            return {"made": "in a function defined before start()"}


        if __name__ == "__main__":
            racewatch.start()
            print(main())
            racewatch.stop()
        """)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    quiet = subprocess.run([sys.executable, "-c", "import racewatch; racewatch.start(); "
                            "d = {}; racewatch.stop()"], cwd=tmp_path, capture_output=True,
                           text=True, env=clean_env(), timeout=120)
    assert quiet.stderr == ""  # -c code: no file to instrument, nothing to say
