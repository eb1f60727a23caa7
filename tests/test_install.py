"""Without the compiled core (an install where nothing could be compiled) the pure-Python
core runs, and ``racewatch run`` says so once, unless that core is what the user chose.

test_distribution.py installs a real sdist without a C compiler.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from corpus_tools import TIMEOUT, clean_env

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
    print("done")
    """)

NOTE = "racewatch: note: the pure-Python core runs"
# The compiled core, as an install without a C compiler leaves it: absent.
WITHOUT_COMPILED_CORE = ("import sys; sys.modules['racewatch._core'] = None; "
                         "from racewatch.cli import main; sys.exit(main())")


def racewatch_run(tmp_path, core: str | None, *, hide_compiled: bool):
    (tmp_path / "racy.py").write_text(RACY)
    env = clean_env()
    env.pop("RACEWATCH_CORE", None)
    if core is not None:
        env["RACEWATCH_CORE"] = core
    prefix = ["-c", WITHOUT_COMPILED_CORE] if hide_compiled else ["-m", "racewatch"]
    return subprocess.run([sys.executable, *prefix, "run", "--json", "r.json", "racy.py"],
                          capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=TIMEOUT)


def compiled_core_built() -> bool:
    from racewatch.runtime import core

    return core.load("auto") is not None


@pytest.mark.parametrize("core", [None, "auto"])
def test_without_the_compiled_core_run_says_once_which_core_and_how_to_get_the_other(
        tmp_path, core):
    run = racewatch_run(tmp_path, core, hide_compiled=True)
    assert run.returncode == 66, run.stderr
    assert run.stdout == "done\n"
    assert run.stderr.count(NOTE) == 1
    first, second = run.stderr.splitlines()[:2]
    assert first.startswith(NOTE) and "cannot be loaded (" in first
    assert "apt-get install gcc python3-dev" in second
    assert "--force-reinstall --no-cache-dir" in second
    assert "RACEWATCH_CORE=python" in second
    assert run.stderr.count("WARNING: racewatch: data race") == 1
    assert run.stderr.rstrip().endswith("racewatch: 1 race found")


def test_no_note_when_the_pure_python_core_is_chosen(tmp_path):
    run = racewatch_run(tmp_path, "python", hide_compiled=True)
    assert run.returncode == 66, run.stderr
    assert "racewatch: note" not in run.stderr
    assert run.stderr.startswith("==================\nWARNING: racewatch: data race")


@pytest.mark.skipif(not compiled_core_built(), reason="the compiled core is not built here")
def test_no_note_when_the_compiled_core_runs(tmp_path):
    run = racewatch_run(tmp_path, None, hide_compiled=False)
    assert run.returncode == 66, run.stderr
    assert "racewatch: note" not in run.stderr

