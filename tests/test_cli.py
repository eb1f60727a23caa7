"""`racewatch run`: the program runs as plain python would run it; bad input gets one line."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from corpus_tools import clean_env, racewatch_command, run_plain, run_racewatch

RACY = textwrap.dedent("""\
    import threading
    shared = {}
    def work():
        shared["k"] = 1
    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    """)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def racewatch(*args, cwd, env=None):
    return subprocess.run(racewatch_command(*args), capture_output=True, text=True,
                          cwd=cwd, env=env or clean_env(), timeout=120)


# -- the program sees what plain python gives it ----------------------------------------


def test_script_sees_argv_path_name_and_file_as_under_python(tmp_path):
    script = write(tmp_path / "app" / "show.py", """\
        import os, sys
        print(sys.argv)
        print(sys.path[0] == os.path.dirname(os.path.realpath(__file__)))
        print(__name__, os.path.isabs(__file__), os.path.basename(__file__))
        import __main__
        print(__main__.__dict__ is globals(), __spec__)
        """)
    assert script.exists()
    plain = run_plain("app/show.py", "a", "--json", "b", cwd=tmp_path)
    watched = run_racewatch(tmp_path, "app/show.py", "a", "--json", "b", cwd=tmp_path)
    assert plain.stdout.splitlines()[0] == "['app/show.py', 'a', '--json', 'b']"
    assert watched.stdout == plain.stdout
    assert watched.status == 0


def test_module_runs_as_main_with_cwd_on_path(tmp_path):
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "__main__.py", """\
        import os, sys
        print(__name__, sys.argv[1:], sys.path[0] == os.getcwd())
        counts = {}
        counts["x"] = 1
        print(type(counts) is dict)
        """)
    run = racewatch("run", "-m", "pkg", "one", "two", cwd=tmp_path)
    assert run.stdout == "__main__ ['one', 'two'] True\nTrue\n"
    assert run.returncode == 0, run.stderr
    assert run.stderr.strip() == "racewatch: no races found"


def test_module_race_is_reported_with_module_lines(tmp_path):
    write(tmp_path / "job.py", RACY)
    run = racewatch("run", "--json", "r.json", "-m", "job", cwd=tmp_path)
    assert run.returncode == 66, run.stderr
    race = json.loads((tmp_path / "r.json").read_text())["races"][0]
    assert race["current"]["stack"][0] == {"file": str(tmp_path / "job.py"), "line": 4,
                                           "function": "work"}


def test_python_dash_m_racewatch_and_console_script_agree(tmp_path):
    write(tmp_path / "racy.py", RACY)
    via_module = racewatch("run", "racy.py", cwd=tmp_path)
    console = Path(sys.executable).with_name("racewatch")
    via_script = subprocess.run([str(console), "run", "racy.py"], capture_output=True,
                                text=True, cwd=tmp_path, env=clean_env(), timeout=120)
    assert via_module.returncode == via_script.returncode == 66
    assert via_module.stderr.count("WARNING: racewatch: data race") == 1
    assert via_script.stderr.count("WARNING: racewatch: data race") == 1


# -- exit status ---------------------------------------------------------------------------


@pytest.mark.parametrize("tail, status", [
    ("", 66),                               # races, program exits 0
    ("import sys; sys.exit(3)", 3),         # the program's own status wins
    ("raise SystemExit('bye')", 1),
    ("raise ValueError('boom')", 1),
])
def test_exit_status(tmp_path, tail, status):
    write(tmp_path / "p.py", RACY + tail + "\n")
    run = racewatch("run", "p.py", cwd=tmp_path)
    assert run.returncode == status, run.stderr
    assert run.stderr.rstrip().endswith("racewatch: 1 race found")


def test_exitcode_option(tmp_path):
    write(tmp_path / "p.py", RACY)
    assert racewatch("run", "--exitcode", "7", "p.py", cwd=tmp_path).returncode == 7
    assert racewatch("run", "--exitcode", "0", "p.py", cwd=tmp_path).returncode == 0


def test_uncaught_exception_prints_as_plain_python(tmp_path):
    script = write(tmp_path / "fail.py", """\
        def lookup(d):
            return d["missing"]

        lookup({"present": 1})
        """)
    plain = run_plain(script, cwd=tmp_path)
    watched = run_racewatch(tmp_path, script, cwd=tmp_path)
    assert watched.status == plain.status == 1
    assert watched.stderr.replace("racewatch: no races found\n", "") == plain.stderr
    assert "racewatch/" not in watched.stderr


def test_program_threads_are_waited_for_before_the_report(tmp_path):
    write(tmp_path / "late.py", """\
        import threading, time
        shared = {}
        def late():
            time.sleep(0.2)
            shared["k"] = 2
        shared["k"] = 1
        threading.Thread(target=late).start()
        # main returns at once; the race happens after its last line
        """)
    run = racewatch("run", "late.py", cwd=tmp_path)
    # The thread started after main's write: ordered, no race.
    assert run.returncode == 0, run.stderr
    write(tmp_path / "late2.py", """\
        import threading, time
        shared = {}
        def late():
            time.sleep(0.2)
            shared["k"] = 2
        threading.Thread(target=late).start()
        shared["k"] = 1
        """)
    run = racewatch("run", "late2.py", cwd=tmp_path)
    assert run.returncode == 66, run.stderr


# -- JSON report ---------------------------------------------------------------------------


def test_json_report_has_the_fields_of_spec_section_4(tmp_path):
    script = write(tmp_path / "p.py", RACY)
    run = run_racewatch(tmp_path, script, cwd=tmp_path)
    report = run.report
    assert report["racewatch"]
    assert report["summary"]["races"] == 1
    race, = report["races"]
    assert race["kind"] == "write/write"
    assert race["key"] == "'k'"
    assert race["count"] >= 1
    assert race["container"] == {"type": "dict", "created_at": [
        {"file": str(script), "line": 2, "function": "<module>"}]}
    for side in ("current", "previous"):
        access = race[side]
        assert access["op"] == "setitem" and access["write"] is True
        assert access["locks_held"] == []
        assert access["stack"][0] == {"file": str(script), "line": 4, "function": "work"}
        assert set(access["thread"]) == {"name", "id", "created_at"}
        assert access["thread"]["created_at"][0]["line"] == 7


# -- what is instrumented --------------------------------------------------------------------


def _two_dirs(tmp_path):
    lib = write(tmp_path / "elsewhere" / "sharedlib.py", """\
        import threading
        table = {}
        def hammer():
            threads = [threading.Thread(target=table.__setitem__, args=("k", n))
                       for n in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        """)
    app = write(tmp_path / "app" / "main.py", """\
        import sys
        sys.path.insert(0, sys.argv[1])
        import sharedlib
        sharedlib.hammer()
        print(type(sharedlib.table).__name__)
        """)
    return lib.parent, app


def test_modules_outside_the_roots_are_not_instrumented(tmp_path):
    lib_dir, app = _two_dirs(tmp_path)
    run = racewatch("run", str(app), str(lib_dir), cwd=app.parent)
    assert run.returncode == 0, run.stderr


def test_include_instruments_a_module_by_name(tmp_path):
    lib_dir, app = _two_dirs(tmp_path)
    run = racewatch("run", "--include", "sharedlib", str(app), str(lib_dir), cwd=app.parent)
    assert run.returncode == 66, run.stderr
    assert "sharedlib.py" in run.stderr


def test_exclude_wins(tmp_path):
    write(tmp_path / "racymod.py", RACY.replace("threads = ", "def go():\n    threads = ")
          .replace("\nfor t", "\n    for t").replace("\n    t.", "\n        t."))
    write(tmp_path / "main.py", "import racymod\nracymod.go()\n")
    assert racewatch("run", "main.py", cwd=tmp_path).returncode == 66
    run = racewatch("run", "--exclude", "racy*", "main.py", cwd=tmp_path)
    assert run.returncode == 0, run.stderr


def test_options_from_pyproject_and_environment(tmp_path):
    write(tmp_path / "p.py", RACY)
    write(tmp_path / "pyproject.toml", """\
        [tool.racewatch]
        exitcode = 5
        """)
    assert racewatch("run", "p.py", cwd=tmp_path).returncode == 5
    env = clean_env(RACEWATCH_OPTIONS="exitcode=6")
    assert racewatch("run", "p.py", cwd=tmp_path, env=env).returncode == 6
    assert racewatch("run", "--exitcode", "9", "p.py", cwd=tmp_path, env=env).returncode == 9


# -- bad input: one line, a non-zero status, never a racewatch traceback ------------------


def _one_line_error(run, *fragments):
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("racewatch: error: "), run.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in run.stderr


def test_missing_script(tmp_path):
    run = racewatch("run", "nope.py", cwd=tmp_path)
    _one_line_error(run, "can't open file", "nope.py", "No such file or directory")
    assert run.returncode == 2


def test_missing_module(tmp_path):
    run = racewatch("run", "-m", "no_such_module_here", cwd=tmp_path)
    _one_line_error(run, "No module named", "no_such_module_here")


def test_unknown_option(tmp_path):
    write(tmp_path / "p.py", "print(1)\n")
    _one_line_error(racewatch("run", "--bogus", "p.py", cwd=tmp_path), "--bogus")


def test_bad_value_is_named(tmp_path):
    write(tmp_path / "p.py", "print(1)\n")
    run = racewatch("run", "--stack-depth", "deep", "p.py", cwd=tmp_path)
    _one_line_error(run, "stack_depth", "'deep'", "command line")
    run = racewatch("run", "--exitcode", "300", "p.py", cwd=tmp_path)
    _one_line_error(run, "exitcode", "300")


def test_unknown_key_in_environment_and_pyproject(tmp_path):
    write(tmp_path / "p.py", "print(1)\n")
    env = clean_env(RACEWATCH_OPTIONS="stack_dpth=3")
    _one_line_error(racewatch("run", "p.py", cwd=tmp_path, env=env), "stack_dpth",
                    "RACEWATCH_OPTIONS")
    write(tmp_path / "pyproject.toml", "[tool.racewatch]\nhalt_on_error = 'sometimes'\n")
    _one_line_error(racewatch("run", "p.py", cwd=tmp_path), "halt_on_error", "pyproject.toml")


def test_nothing_to_run(tmp_path):
    _one_line_error(racewatch("run", cwd=tmp_path), "nothing to run")


@pytest.mark.parametrize("columns", [50, 120])
def test_help_is_as_wide_as_the_terminal(tmp_path, columns):
    env = clean_env()
    env["COLUMNS"] = str(columns)
    shown = racewatch("run", "--help", cwd=tmp_path, env=env)
    assert shown.returncode == 0
    lines = shown.stdout.splitlines()
    assert lines[0] == "usage: racewatch run [options] SCRIPT [ARGS...]"
    assert "--watch KINDS" in shown.stdout
    # argparse wraps the help at the width less two; the usage lines are given as they are
    widest = max(len(line) for line in lines[2:])
    assert widest <= columns - 2
    if columns > 80:
        assert widest > 80   # the terminal's width, not a default


def test_start_up_leaves_out_what_only_help_needs(tmp_path):
    # argparse imports shutil for the terminal's width, with the compression modules
    # shutil imports: racewatch gives it the width and runs the program without them.
    write(tmp_path / "show.py", """\
        import sys
        print(sorted(m for m in ("shutil", "bz2", "lzma") if m in sys.modules))
        """)
    watched = run_racewatch(tmp_path, "show.py", cwd=tmp_path)
    assert watched.status == 0
    assert watched.stdout == "[]\n"


def test_syntax_error_in_script_is_plain_pythons(tmp_path):
    script = write(tmp_path / "bad.py", "x = 1\ndef broken(:\n    pass\n")
    plain = run_plain(script, cwd=tmp_path)
    watched = run_racewatch(tmp_path, script, cwd=tmp_path)
    assert watched.status == plain.status == 1
    assert watched.stderr.replace("racewatch: no races found\n", "") == plain.stderr
    assert "SyntaxError" in plain.stderr


def test_syntax_error_in_instrumented_module_is_plain_pythons(tmp_path):
    write(tmp_path / "broken.py", "values = {1: 2\n")
    script = write(tmp_path / "main.py", "print('before')\nimport broken\n")
    plain = run_plain(script, cwd=tmp_path)
    watched = run_racewatch(tmp_path, script, cwd=tmp_path)
    assert watched.stdout == plain.stdout == "before\n"
    assert watched.status == plain.status == 1
    assert watched.stderr.replace("racewatch: no races found\n", "") == plain.stderr
