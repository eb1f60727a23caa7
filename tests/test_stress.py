"""Parallel stress: 4 and 8 threads at full speed on one tracked container of each kind (a
dict, a list, a set, an object's attributes).

The workload (tests/stress_harness.py) mixes every operation of the container with thread
start and exit churn and lock traffic, for a bounded number of rounds, and holds known
races and known race-free parts.  Run under ``racewatch run`` and under plain ``python``,
it must: end (no crash, no hang: every wait has a timeout), print the same (its results
do not depend on the interleaving), report exactly its known races, and the detector's
count of accesses and threads (and of containers, where the summary counts them) must
equal the workload's own.

``STRESS_RUNS=200 python -m pytest tests/test_stress.py`` repeats each racewatch run (and
its checks) that many times.
"""

import inspect
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

# kind: (what makes the shared container, in the instrumented script; the summary's count
# of such containers, if it keeps one)
KINDS = {
    "dict": ("lambda: {}", "dicts_tracked"),
    "list": ("lambda: []", "lists_tracked"),
    "set": ("lambda: set()", "sets_tracked"),
    "object": ("stress_objects.Board", None),
}


def expected_races(kind: str) -> list[set]:
    """One race per ``# RACE: name`` mark in the kind's exerciser: between the (one or two)
    lines it marks."""
    exerciser = stress_harness.EXERCISERS[kind]
    path = Path(inspect.getsourcefile(exerciser)).resolve()
    source, first = inspect.getsourcelines(exerciser)
    lines: dict[str, set] = {}
    for number, text in enumerate(source, first):
        match = MARK.search(text)
        if match:
            lines.setdefault(match.group(1), set()).add((str(path), number))
    return sorted(lines.values(), key=sorted)


def run(tmp_path: Path, kind: str, threads: int, rounds: int, watched: bool):
    script = tmp_path / "stress.py"
    script.write_text("import sys\nimport stress_harness\nimport stress_objects\n\n"
                      f"stress_harness.run({KINDS[kind][0]}, {kind!r}, "
                      "threads=int(sys.argv[1]), rounds=int(sys.argv[2]))\n")
    report = tmp_path / "report.json"
    args = [str(script), str(threads), str(rounds)]
    # The attributes' exerciser is instrumented (tests/stress_objects.py says why).
    cmd = (racewatch_command("run", "--json", str(report), "--include", "stress_objects",
                             *args) if watched
           else [sys.executable, *args])
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT,
                          env=clean_env(PYTHONPATH=str(HARNESS.parent)))
    return proc, (json.loads(report.read_text()) if watched and report.exists() else None)


def own_counts(plain) -> dict[str, int]:
    """What the workload counted itself: accesses, threads, containers made."""
    return {name: int(value) for name, value in
            (line.split(": ", 1) for line in plain.stdout.splitlines()
             if line.startswith(("accesses:", "threads:", "containers:")))}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("threads", [4, 8])
def test_parallel_stress(tmp_path, kind, threads):
    rounds = 10
    plain, _ = run(tmp_path, kind, threads, rounds, watched=False)
    assert plain.returncode == 0, plain.stderr
    counts = own_counts(plain)
    expected = expected_races(kind)
    for n in range(1, RUNS + 1):
        watched, report = run(tmp_path, kind, threads, rounds, watched=True)
        context = f"run {n} of {RUNS}\n{watched.stderr}"
        assert watched.stdout == plain.stdout, context
        assert watched.returncode == 66, context
        found = sorted((race_lines(r) for r in report["races"]), key=sorted)
        assert found == expected, context
        summary = report["summary"]
        assert summary["accesses"] == counts["accesses"], context
        assert summary["threads"] == counts["threads"], context
        if KINDS[kind][1] is not None:
            assert summary[KINDS[kind][1]] == counts["containers"], context
        assert summary["races"] == len(expected) >= 3


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_access_is_counted_as_the_harness_counts_it(tmp_path, kind):
    """One worker's worth of each part, on one thread at a time: the cost table is right
    (so that the parallel runs above compare the detector with a true count)."""
    plain, _ = run(tmp_path, kind, 3, 1, watched=False)
    watched, report = run(tmp_path, kind, 3, 1, watched=True)
    assert watched.stdout == plain.stdout, watched.stderr
    counts = own_counts(plain)
    assert report["summary"]["accesses"] == counts["accesses"]
    if KINDS[kind][1] is not None:
        assert report["summary"][KINDS[kind][1]] == counts["containers"]
