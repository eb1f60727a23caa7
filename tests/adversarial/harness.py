"""Run a program under plain python and under racewatch, and compare what a user sees.

racewatch must never change a program's outcome: the same stdout, the same stderr once
racewatch's own reports are taken out, the same exit status (66 for a program that exits
0 after races, as documented), and never a hang: every run has a timeout.

A program in ``programs/`` says what racewatch should find in a comment line near its
top, ``# races: 0`` (a correct program) or ``# races: 1`` (that many distinct races), and
may ask for ``# timeout: SECONDS``, ``# stderr: any`` (stderr not compared: the program
prints something that varies between runs, such as an object's address) or ``# slow:
yes`` (marked ``slow``: a load case, or one that waits out its timeout where it fails).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from corpus_tools import clean_env, racewatch_command

PROGRAMS = Path(__file__).parent / "programs"
DEFAULT_TIMEOUT = 60
_HEADER = re.compile(r"^#\s*(races|timeout|stderr|slow):\s*(\S+)\s*$")
_RULE = "=" * 18


@dataclass
class Outcome:
    status: int | None           # None: killed after the timeout
    stdout: str
    stderr: str
    report: dict | None = None

    @property
    def hung(self) -> bool:
        return self.status is None


def headers(program: Path) -> dict[str, str]:
    found = {}
    for line in program.read_text(encoding="utf-8").splitlines()[:30]:
        match = _HEADER.match(line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def run(cmd: list[str], cwd: Path, env: dict, timeout: float, stdin=None) -> Outcome:
    """``cmd`` in its own process group, killed (group and all) after ``timeout``."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=stdin or subprocess.DEVNULL,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        status = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        status = None
    return Outcome(status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def run_plain(program: Path, *args: str, cwd: Path, timeout: float = DEFAULT_TIMEOUT,
              env: dict | None = None) -> Outcome:
    return run([sys.executable, str(program), *args], cwd, env or clean_env(), timeout)


def run_watched(program: Path, *args: str, cwd: Path, timeout: float = DEFAULT_TIMEOUT,
                options: tuple[str, ...] = (), env: dict | None = None) -> Outcome:
    """``racewatch run --json ... program``; the JSON report read back."""
    report = cwd / f"{program.stem}.racewatch.json"
    cmd = racewatch_command("run", "--json", str(report), *options, str(program), *args)
    outcome = run(cmd, cwd, env or clean_env(), timeout)
    if report.exists():
        outcome.report = json.loads(report.read_text(encoding="utf-8"))
    return outcome


def without_reports(stderr: str) -> str:
    """stderr without racewatch's race reports and its own ``racewatch: ...`` lines."""
    kept, inside = [], False
    for line in stderr.splitlines(keepends=True):
        if line.rstrip("\n") == _RULE:
            inside = not inside
            continue
        if inside or line.startswith("racewatch: "):
            continue
        kept.append(line)
    return "".join(kept)


def compare(program: Path, tmp_path: Path, *args: str) -> tuple[Outcome, Outcome]:
    """Run ``program`` both ways from ``tmp_path`` and assert the promise; both outcomes."""
    wanted = headers(program)
    timeout = float(wanted.get("timeout", DEFAULT_TIMEOUT))
    plain = run_plain(program, *args, cwd=tmp_path, timeout=timeout)
    assert not plain.hung, f"{program.name} hangs under plain python: fix the program"
    watched = run_watched(program, *args, cwd=tmp_path, timeout=timeout)
    assert not watched.hung, (f"{program.name} hung under racewatch (plain python: "
                              f"status {plain.status})\n{watched.stderr[-3000:]}")
    assert watched.stdout == plain.stdout, watched.stderr[-3000:]
    if wanted.get("stderr") != "any":
        assert without_reports(watched.stderr) == plain.stderr
    assert watched.report is not None, watched.stderr[-3000:]
    races = len(watched.report["races"])
    expected = int(wanted.get("races", "0"))
    assert races == expected, (f"{races} race(s) found, {expected} expected\n"
                               f"{watched.stderr[-3000:]}")
    status = 66 if races and plain.status == 0 else plain.status
    assert watched.status == status, watched.stderr[-3000:]
    return plain, watched
