"""Parallel stress: 4 and 8 threads at full speed on one tracked container.

The workload (tests/stress_harness.py) mixes every operation of the container with thread
start and exit churn and lock traffic, for a bounded number of rounds, and holds known
races and known race-free parts.  Run under ``racewatch run`` and under plain ``python``,
it must: end (no crash, no hang: every wait has a timeout), print the same (its results
do not depend on the interleaving), report exactly its known races, and the detector's
count of accesses and threads must equal the workload's own.

``STRESS_RUNS=200 python -m pytest tests/test_stress.py`` repeats each racewatch run (and
its checks) that many times.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import stress_harness
from corpus_tools import clean_env, race_lines, racewatch_command

HARNESS = Path(stress_harness.__file__).resolve()
MARK = re.compile(r"#\s*RACE:\s*(\S+)")
TIMEOUT = 900  # seconds for one run: the machine may be loaded; a hang fails well before
RUNS = int(os.environ.get("STRESS_RUNS", "1"))


def expected_races() -> list[set]:
    """One race per ``# RACE: name`` mark: between the (one or two) lines it marks."""
    lines: dict[str, set] = {}
    for number, text in enumerate(HARNESS.read_text().splitlines(), 1):
        match = MARK.search(text)
        if match:
            lines.setdefault(match.group(1), set()).add((str(HARNESS), number))
    return sorted(lines.values(), key=sorted)


def run(tmp_path: Path, kind: str, make: str, threads: int, rounds: int, watched: bool):
    script = tmp_path / "stress.py"
    script.write_text("import sys\nimport stress_harness\n\n"
                      f"stress_harness.run({make}, {kind!r}, threads=int(sys.argv[1]), "
                      "rounds=int(sys.argv[2]))\n")
    report = tmp_path / "report.json"
    args = [str(script), str(threads), str(rounds)]
    cmd = (racewatch_command("run", "--json", str(report), *args) if watched
           else [sys.executable, *args])
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT,
                          env=clean_env(PYTHONPATH=str(HARNESS.parent)))
    return proc, (json.loads(report.read_text()) if watched and report.exists() else None)


@pytest.mark.parametrize("threads", [4, 8])
def test_dict_under_parallel_stress(tmp_path, threads):
    rounds = 10
    plain, _ = run(tmp_path, "dict", "lambda: {}", threads, rounds, watched=False)
    assert plain.returncode == 0, plain.stderr
    counts = dict(line.split(": ", 1) for line in plain.stdout.splitlines()
                  if line.startswith(("accesses:", "threads:", "containers:")))
    for n in range(1, RUNS + 1):
        watched, report = run(tmp_path, "dict", "lambda: {}", threads, rounds, watched=True)
        context = f"run {n} of {RUNS}\n{watched.stderr}"
        assert watched.stdout == plain.stdout, context
        assert watched.returncode == 66, context
        found = sorted((race_lines(r) for r in report["races"]), key=sorted)
        assert found == expected_races(), context
        summary = report["summary"]
        assert summary["accesses"] == int(counts["accesses"]), context
        assert summary["threads"] == int(counts["threads"]), context
        assert summary["dicts_tracked"] == int(counts["containers"]), context
        assert summary["races"] == len(expected_races()) == 3


def test_every_access_is_counted_as_the_harness_counts_it(tmp_path):
    """One worker's worth of each part, on one thread at a time: the cost table is right
    (so that the parallel runs above compare the detector with a true count)."""
    plain, _ = run(tmp_path, "dict", "lambda: {}", 3, 1, watched=False)
    watched, report = run(tmp_path, "dict", "lambda: {}", 3, 1, watched=True)
    assert watched.stdout == plain.stdout, watched.stderr
    counts = dict(line.split(": ", 1) for line in plain.stdout.splitlines()
                  if line.startswith(("accesses:", "containers:")))
    assert report["summary"]["accesses"] == int(counts["accesses"])
    assert report["summary"]["dicts_tracked"] == int(counts["containers"])
