"""Failing I/O: a full disk under the race log or stderr, no stderr at all, a torn log.

Reporting is racewatch's problem, never the program's: whatever fails, the program runs
as under plain python (same output, same status, every thread finishes), the lines that
could not be written are counted and said once at exit where anything can still be
written, and a log cut short in the middle of a line still reads.

A full disk is a tmpfs mounted for the test, which needs root: without it (or where mount
fails) those tests are skipped with the reason.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from corpus_tools import clean_env, racewatch_command
from harness import run, run_plain, without_reports

# Forty racing lines, so forty distinct races: the log fills a small disk.
LINES = 40
MANY_RACES = textwrap.dedent("""\
    import threading

    d = {}
    finished = []


    def work(v):
    """) + "".join(f"    d[{i}] = v\n" for i in range(LINES)) + textwrap.dedent("""\
        finished.append(v)


    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(len(finished), "threads finished;", len(d), "keys")
    """)


@pytest.fixture
def full_disk(tmp_path):
    """A directory on a 16 KiB tmpfs whose space is all taken but one page."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        (disk / "ballast").write_bytes(b"x" * 12288)
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def _program(tmp_path):
    program = tmp_path / "many_races.py"
    program.write_text(MANY_RACES)
    return program


def test_a_log_on_a_full_disk_costs_the_program_nothing(tmp_path, full_disk):
    program = _program(tmp_path)
    plain = run_plain(program, cwd=tmp_path)
    env = clean_env(RACEWATCH="1", RACEWATCH_OPTIONS=f"log_path={full_disk}/races.%p.log")
    watched = run([sys.executable, str(program)], tmp_path, env, 60)
    assert watched.status == plain.status == 0, watched.stderr
    assert watched.stdout == plain.stdout == f"8 threads finished; {LINES} keys\n"
    assert "Traceback" not in watched.stderr, watched.stderr
    (log,) = full_disk.glob("races.*.log")
    whole = [line for line in log.read_bytes().split(b"\n")[:-1]]
    lost = LINES - len({(r["current"]["stack"][0]["line"], r["previous"]["stack"][0]["line"])
                        for r in map(json.loads, whole)})
    assert 0 < lost < LINES
    warning = [line for line in watched.stderr.splitlines() if "could not be written" in line]
    assert warning == [f"racewatch: warning: {lost} races could not be written to {log} "
                       "(No space left on device)"], watched.stderr

    # What reached the disk reads, a line cut short at its end included.
    report = subprocess.run(racewatch_command("report", str(log)), cwd=tmp_path,
                            env=clean_env(), capture_output=True, text=True, timeout=60)
    assert report.returncode == 66, report.stderr
    assert "WARNING: racewatch: data race" in report.stdout
    torn = not log.read_bytes().endswith(b"\n")
    assert ("skipped a torn last line" in report.stderr) == torn, report.stderr


def test_stderr_on_a_full_disk_costs_the_program_nothing(tmp_path, full_disk):
    program = _program(tmp_path)
    plain = run_plain(program, cwd=tmp_path)
    with open(full_disk / "stderr.txt", "w") as stderr:
        proc = subprocess.run(racewatch_command("run", str(program)), cwd=tmp_path,
                              env=clean_env(), stdout=subprocess.PIPE, stderr=stderr,
                              timeout=60)
    assert proc.stdout.decode() == plain.stdout
    assert proc.returncode == 66  # the races were found, if not all could be printed


def test_no_stderr_at_all(tmp_path):
    """fd 2 closed: Python starts with sys.stderr None, and so does racewatch."""
    program = _program(tmp_path)
    plain = run_plain(program, cwd=tmp_path)
    report = tmp_path / "report.json"
    proc = subprocess.run(racewatch_command("run", "--json", str(report), str(program)),
                          cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE,
                          preexec_fn=lambda: os.close(2), timeout=60)
    assert proc.stdout.decode() == plain.stdout
    assert proc.returncode == 66
    assert len(json.loads(report.read_text())["races"]) >= LINES


def test_report_skips_a_torn_last_line_with_a_warning(tmp_path):
    program = _program(tmp_path)
    env = clean_env(RACEWATCH="1", RACEWATCH_OPTIONS="log_path=races.log")
    run([sys.executable, str(program)], tmp_path, env, 60)
    log = tmp_path / "races.log"
    whole = log.read_bytes()
    lines = whole.splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:3]) + lines[3][:len(lines[3]) // 2])
    report = subprocess.run(racewatch_command("report", str(log)), cwd=tmp_path,
                            env=clean_env(), capture_output=True, text=True, timeout=60)
    assert report.returncode == 66
    assert report.stderr == (f"racewatch: warning: {log}:4: skipped a torn last line (the "
                             "log was cut short while it was written)\n")
    assert report.stdout.count("WARNING: racewatch: data race") == 3

    # A bad line anywhere else is still no log.
    log.write_bytes(lines[0][:40] + b"\n" + b"".join(lines[1:]))
    report = subprocess.run(racewatch_command("report", str(log)), cwd=tmp_path,
                            env=clean_env(), capture_output=True, text=True, timeout=60)
    assert report.returncode == 2
    assert report.stderr.startswith(f"racewatch: error: {log}:1: not a racewatch log line")


def test_stderr_of_the_program_is_untouched(tmp_path):
    """The race reports are racewatch's lines only: what is left is plain python's."""
    program = _program(tmp_path)
    plain = run_plain(program, cwd=tmp_path)
    watched = run(racewatch_command("run", str(program)), tmp_path, clean_env(), 60)
    assert without_reports(watched.stderr) == plain.stderr


def test_a_report_on_a_full_disk_is_one_line_and_the_others_are_written(tmp_path, full_disk):
    program = _program(tmp_path)
    json_path = full_disk / "report.json"
    watched = run(racewatch_command("run", "--json", str(json_path), "--html", "r.html",
                                    str(program)), tmp_path, clean_env(), 60)
    assert watched.status == 66
    assert watched.stderr.splitlines()[-2:] == [
        f"racewatch: error: cannot write the JSON report to {json_path}: No space left on "
        "device", f"racewatch: {LINES} races found"], watched.stderr[-2000:]
    assert not json_path.exists() and not list(full_disk.glob("*.tmp"))
    assert (tmp_path / "r.html").stat().st_size > 0
