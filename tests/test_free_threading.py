"""On a free-threaded build, racewatch and what it runs on keep the GIL off.

A C extension that does not declare itself safe without the GIL (``Py_mod_gil``) turns the
GIL on for the whole process when it is imported, with a RuntimeWarning, unless PYTHON_GIL=0
forces it off.  These checks run without PYTHON_GIL, so that such an import shows: the
compiled core, and every dependency racewatch imports at run time (wrapt, psutil for the
memory budget, jinja2 and markupsafe for the HTML report, bytecode for code loaded before
the start).
"""

import os
import subprocess
import sys
import textwrap

import pytest
from corpus_tools import active_core, racewatch_command
from freethreading import FREE_THREADED

pytestmark = pytest.mark.skipif(not FREE_THREADED, reason="a GIL build: there is no GIL to "
                                                          "keep off")

GIL_WARNING = "The global interpreter lock (GIL) has been enabled"


def env_without_forced_gil() -> dict:
    env = {k: v for k, v in os.environ.items()
           if k != "PYTHON_GIL" and not k.startswith("RACEWATCH")}
    env["RACEWATCH_CORE"] = active_core()
    return env


def test_racewatch_run_with_every_report_keeps_the_gil_off(tmp_path):
    program = tmp_path / "program.py"
    program.write_text(textwrap.dedent("""\
        import queue, sys, threading
        from concurrent.futures import ThreadPoolExecutor
        shared = {}
        items = queue.Queue()
        def work(n):
            shared[n % 2] = n
            items.put(n)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(work, range(8)))
        print("GIL on:", sys._is_gil_enabled())
        """))
    reports = [f"--{kind}={tmp_path / ('r.' + kind)}" for kind in ("json", "html", "sarif")]
    run = subprocess.run(racewatch_command("run", "--max-memory-mb", "4000", *reports,
                                           str(program)),
                         cwd=tmp_path, env=env_without_forced_gil(), capture_output=True,
                         text=True, timeout=300)
    assert run.stdout == "GIL on: False\n", run.stderr
    assert run.returncode == 66, run.stderr
    assert GIL_WARNING not in run.stderr
    assert all((tmp_path / f"r.{kind}").stat().st_size for kind in ("json", "html", "sarif"))


def test_importing_all_of_racewatch_keeps_the_gil_off():
    code = textwrap.dedent("""\
        import importlib, pkgutil, sys
        import racewatch
        for info in pkgutil.walk_packages(racewatch.__path__, "racewatch."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
        import bytecode, jinja2, markupsafe._speedups, psutil, wrapt
        from racewatch.runtime import core
        print(core.NAME, sys._is_gil_enabled())
        """)
    run = subprocess.run([sys.executable, "-c", code], env=env_without_forced_gil(),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"{active_core()} False\n", run.stderr
    assert GIL_WARNING not in run.stderr


def test_threads_read_a_large_dict_while_its_locations_are_made_whole(tmp_path):
    # Past 8,192 keys read, a large dict's locations are made whole in one table that
    # replaces the one the threads were reading without a lock (rules.c, prefill): the old
    # one must outlive those reads.  Four threads read keys of their own, all at once.
    program = tmp_path / "program.py"
    program.write_text(textwrap.dedent("""\
        import threading
        table = {n: n for n in range(200_000)}
        go = threading.Barrier(4)
        sums = [0] * 4
        def read(first):
            go.wait()
            total = 0
            for _ in range(3):
                for n in range(first, 200_000, 4):
                    total += table[n]
            sums[first] = total
        threads = [threading.Thread(target=read, args=(f,)) for f in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(sum(sums))
        """))
    for _ in range(3):
        run = subprocess.run(racewatch_command("run", str(program)), cwd=tmp_path,
                             env=env_without_forced_gil(), capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 0, run.stderr
        assert run.stdout == f"{3 * sum(range(200_000))}\n", run.stderr
        assert "racewatch: no races found" in run.stderr
