"""Running programs of the labelled corpus under racewatch and under plain Python.

A corpus program is ``tests/corpus/<topic>/racy_*.py`` or ``ok_*.py``.  A racy program
marks the lines of its two racing accesses with a ``# RACE`` comment (one marked line
when both accesses are on it), and says in a line ``PATTERN: <id>`` of its docstring what
kind of bug that race is (racewatch.reports.patterns); an ok program must run silent.
Modules a program imports live in a directory named after it
(``racy_cross_module/registry.py``), and may hold a marked line too.  A line ``OPTIONS:
--flag ...`` (in the docstring) gives the program the ``racewatch run`` flags it is about.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"
RACE_MARK = re.compile(r"#\s*RACE\b")
OPTIONS_LINE = re.compile(r"^OPTIONS:(.*)$", re.M)
PATTERN_LINE = re.compile(r"^PATTERN: ([a-z-]+)$", re.M)
TIMEOUT = 120


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str
    report: dict | None


def active_core() -> str:
    """The core racewatch runs with in the tests' subprocesses ("c" or "python"): the one
    this process chose, from the same RACEWATCH_CORE (clean_env passes it on)."""
    from racewatch.runtime import core

    return core.NAME


def racewatch_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "racewatch", *args]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if (not k.startswith("RACEWATCH") or k == "RACEWATCH_CORE")
           and k not in ("PYTHONDONTWRITEBYTECODE",)}
    # The core this process runs, named: where the compiled core is not built, a subprocess
    # left to choose would also say so on stderr (racewatch run's note), which is not what
    # most tests are about.
    env.setdefault("RACEWATCH_CORE", active_core())
    env.update(extra)
    return env


def sleep_ordered_runs(run, tries: int = 10, pause: float = 1.0):
    """Runs of a program that orders its threads with a sleep (in time, not in
    happens-before), ``run()`` each, ``pause`` seconds apart: the caller stops at the first
    that shows the order the sleep meant.  On a machine with more runnable threads than
    CPUs (the test suite's other workers), a thread can still be starting a second after
    ``start()`` on a free-threaded build; a few runs spread over seconds outlast that."""
    for attempt in range(tries):
        if attempt:
            time.sleep(pause)
        yield run()


@functools.cache
def schema_validator(name: str):
    from racewatch.reports import schemas

    return schemas.validator(name)


def check_schema(data: dict, name: str = "report") -> dict:
    """``data`` is valid under the shipped schema ``name`` ("report" or "log-line")."""
    errors = sorted(schema_validator(name).iter_errors(data), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    return data


def run_racewatch(tmp_path: Path, program: str | Path, *args: str, options: tuple = (),
                  cwd: Path | None = None, env: dict | None = None) -> Run:
    """``racewatch run --json ... program args`` in a subprocess; the report it writes is
    checked against the JSON Schema racewatch ships."""
    report_path = tmp_path / "report.json"
    cmd = racewatch_command("run", "--json", str(report_path), *options, str(program), *args)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT,
                          cwd=cwd or Path(program).parent, env=env or clean_env())
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    if report is not None:
        check_schema(report)
    return Run(proc.returncode, proc.stdout, proc.stderr, report)


def run_plain(program: str | Path, *args: str, cwd: Path | None = None) -> Run:
    proc = subprocess.run([sys.executable, str(program), *args], capture_output=True,
                          text=True, timeout=TIMEOUT, cwd=cwd or Path(program).parent,
                          env=clean_env())
    return Run(proc.returncode, proc.stdout, proc.stderr, None)


def program_files(program: Path) -> list[Path]:
    """The program and the modules in its own directory."""
    return [program, *sorted(program.with_suffix("").glob("*.py"))]


def marked_lines(program: Path) -> set[tuple[str, int]]:
    marked = set()
    for path in program_files(program):
        for i, text in enumerate(path.read_text().splitlines(), 1):
            if RACE_MARK.search(text):
                marked.add((str(path), i))
    return marked


def race_lines(race: dict) -> set[tuple[str, int]]:
    """(file, line) of the two innermost frames of a race, as a set."""
    return {(f["file"], f["line"]) for f in (race["current"]["stack"][0],
                                             race["previous"]["stack"][0])}


def corpus_programs(topic: str) -> list[Path]:
    return sorted((CORPUS / topic).glob("*.py"))


def expected_pattern(program: Path) -> str:
    """The pattern a racy program's marked race is (its ``PATTERN:`` line)."""
    found = PATTERN_LINE.search(program.read_text())
    assert found, f"{program.name} says no PATTERN: of its race"
    return found.group(1)


def check_corpus_program(program: Path, tmp_path: Path) -> None:
    """The corpus promise for one program: racy ones report their lines, as the pattern
    they are labelled with, ok ones are silent, and both print exactly what they print
    under plain Python."""
    plain = run_plain(program)
    options = OPTIONS_LINE.search(program.read_text())
    watched = run_racewatch(tmp_path, program,
                            options=tuple(options.group(1).split()) if options else ())
    assert watched.stdout == plain.stdout, "instrumented output differs from plain python"
    assert watched.report is not None, watched.stderr
    if program.name.startswith("racy_"):
        expected = marked_lines(program)
        assert expected, f"{program.name} marks no # RACE line"
        assert watched.status == 66, watched.stderr
        assert plain.status == 0, plain.stderr
        found = [race_lines(r) for r in watched.report["races"]]
        assert expected in found, (
            f"expected a race between {sorted(expected)}, found {found}\n" + watched.stderr)
        files = {str(p) for p in program_files(program)}
        for lines in found:
            assert {file for file, _ in lines} <= files, lines
        marked = watched.report["races"][found.index(expected)]["pattern"]
        assert marked["id"] == expected_pattern(program), (
            f"{program.name}: labelled {expected_pattern(program)}, reported {marked['id']}: "
            f"{marked['explanation']}\n" + watched.stderr)
        assert "WARNING: racewatch: data race" in watched.stderr
        assert f"  Pattern: {marked['title']}: " in watched.stderr
        n = len(found)
        problems = watched.report["summary"]["problems"]
        grouped = f" ({problems} problem{'s' if problems != 1 else ''})" if problems < n else ""
        assert watched.stderr.rstrip().endswith(
            f"racewatch: {n} race{'s' if n != 1 else ''} found{grouped}")
    else:
        assert program.name.startswith("ok_"), program.name
        assert watched.report["races"] == [], watched.stderr
        assert watched.status == plain.status == 0, watched.stderr
        assert "WARNING: racewatch" not in watched.stderr, watched.stderr
        assert watched.stderr.rstrip().endswith("racewatch: no races found")
