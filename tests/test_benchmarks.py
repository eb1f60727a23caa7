"""The benchmark runner (benchmarks/run.py): what it runs, and what it prints per core."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from racewatch.runtime import core

ROOT = Path(__file__).parent.parent

# Two threads fold into one dict under a lock (accesses, no race), and the workload notes
# which core ran it, or that racewatch was not loaded at all.
WORKLOAD = """\
import os, sys, threading

totals = {}
lock = threading.Lock()


def fold(n):
    for i in range(n):
        with lock:
            totals[i % 10] = totals.get(i % 10, 0) + 1


threads = [threading.Thread(target=fold, args=(500,)) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
loaded = sys.modules.get("racewatch.runtime.core")
with open(os.environ["BENCHMARK_TEST_LOG"], "a") as log:
    log.write((loaded.NAME if loaded else "plain") + "\\n")
"""


@pytest.fixture
def runner(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("benchmark_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # (its dataclasses look it up)
    spec.loader.exec_module(module)
    workloads = tmp_path / "workloads"
    workloads.mkdir()
    (workloads / "tiny.py").write_text(WORKLOAD)
    monkeypatch.setattr(module, "WORKLOADS", workloads)
    monkeypatch.setenv("BENCHMARK_TEST_LOG", str(tmp_path / "ran.log"))
    monkeypatch.delenv("RACEWATCH_CORE", raising=False)  # restored after: main() drops it
    yield module, tmp_path / "ran.log"
    module.SPAWNER.close()


@pytest.mark.skipif(core.load("auto") is None, reason="the compiled core is not built")
def test_core_both_runs_each_core_and_prints_a_column_group_per_core(runner, capsys):
    run, log = runner
    assert run.main(["--rounds", "2", "--core", "both", "tiny"]) == 0
    assert log.read_text().split() == ["plain", "c", "python"] * 2
    out = capsys.readouterr().out.splitlines()
    assert "compiled and pure-Python core" in out[0]
    assert out[1].split() == ["workload", "time", "(c)", "memory", "(c)", "accesses/s", "(c)",
                              "time", "(python)", "memory", "(python)", "accesses/s",
                              "(python)", "races"]
    cells = out[2].split()
    assert cells[0] == "tiny" and cells[-1] == "0/0"
    for time_ratio, memory_ratio, accesses in (cells[1:4], cells[4:7]):
        assert re.fullmatch(r"\d+\.\d\dx", time_ratio) and re.fullmatch(r"\d+\.\d\dx",
                                                                         memory_ratio)
        assert int(accesses.replace(",", "")) > 0


def test_one_core_keeps_one_column_group(runner, capsys):
    run, log = runner
    assert run.main(["--rounds", "1", "--core", "python", "tiny"]) == 0
    assert log.read_text().split() == ["plain", "python"]
    out = capsys.readouterr().out.splitlines()
    assert "pure-Python core" in out[0] and " and " not in out[0]
    assert out[1].split() == ["workload", "time", "memory", "accesses/s", "races"]
    assert out[2].split()[0] == "tiny" and out[2].split()[-1] == "0"


def test_baseline_runs_another_checkout_beside_this_one(runner, capsys):
    """--baseline DIR: each round also runs racewatch imported from DIR (here this checkout
    itself), with its own columns."""
    run, log = runner
    assert run.main(["--rounds", "1", "--core", "python", "--baseline", str(ROOT), "tiny"]) == 0
    assert log.read_text().split() == ["plain", "python", "python"]
    out = capsys.readouterr().out.splitlines()
    assert out[1] == f"base: racewatch from {ROOT.resolve()}"
    assert out[2].split() == ["workload", "time", "(python)", "memory", "(python)",
                              "accesses/s", "(python)", "time", "(python", "base)", "memory",
                              "(python", "base)", "accesses/s", "(python", "base)", "races"]
    assert out[3].split()[0] == "tiny" and out[3].split()[-1] == "0/0"


def test_baseline_runs_a_library_suite_too(runner, tmp_path, monkeypatch, capsys):
    run, _ = runner
    source = tmp_path / "lib-1.0"
    (source / "tests").mkdir(parents=True)
    (source / "tests" / "test_lib.py").write_text("def test_one():\n    assert {1: 2}[1] == 2\n")
    monkeypatch.setitem(run.SUITES, "lib", ("lib==1.0", "tests", []))
    monkeypatch.setattr(run, "fetch_suite", lambda name: source)
    assert run.main(["--rounds", "1", "--core", "python", "--baseline", str(ROOT),
                     "suite:lib"]) == 0
    row = capsys.readouterr().out.splitlines()[3].split()
    assert row[0] == "suite:lib" and row[-1] == "0/0" and len(row) == 8


def test_the_baseline_runs_with_its_modules_compiled(runner, tmp_path, monkeypatch):
    """A checkout whose modules have no bytecode (a fresh worktree; nothing written with
    PYTHONDONTWRITEBYTECODE) would compile them at every run, a start-up that a short
    workload counts as racewatch's: the runner writes it before the first round."""
    run, log = runner
    base = tmp_path / "base"
    shutil.copytree(ROOT / "racewatch", base / "racewatch",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd"))
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")  # (the runs write none themselves)
    modules = [base / "racewatch" / "__init__.py", base / "racewatch" / "runtime" / "core.py"]
    assert not any(Path(importlib.util.cache_from_source(m)).exists() for m in modules)
    assert run.main(["--rounds", "1", "--core", "python", "--baseline", str(base), "tiny"]) == 0
    assert log.read_text().split() == ["plain", "python", "python"]
    assert all(Path(importlib.util.cache_from_source(m)).exists() for m in modules)


def test_a_run_s_peak_memory_is_its_own_not_the_runner_s(runner):
    """Linux starts a child's peak (ru_maxrss) from the peak of the process it was forked
    from: a run forked from the runner, larger than several workloads' whole peak, read as
    the runner's size.  Here the runner holds 256 MB more; a run of an empty program still
    reads as the few MB it uses."""
    run, _ = runner
    ballast = bytearray(256 * 1024 * 1024)
    ballast[::4096] = b"x" * len(range(0, len(ballast), 4096))  # resident, not only mapped
    seconds, peak, status = run.measure([sys.executable, "-c", "pass"], ROOT, dict(os.environ))
    assert status == 0 and seconds > 0
    assert peak < 64, peak
    del ballast


def test_baseline_that_is_not_a_checkout_is_one_clear_line(runner, tmp_path):
    run, _ = runner
    with pytest.raises(SystemExit, match=r"--baseline .*: not a checkout of racewatch"):
        run.main(["--rounds", "1", "--core", "python", "--baseline", str(tmp_path), "tiny"])
