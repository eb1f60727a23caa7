"""Bad options, unwritable paths and bad files: one clear line each, never a traceback.

Before the program starts, a bad option (a report that could not be written, a log that
cannot be opened, a suppressions file that is not UTF-8) is one line and status 2 under
``racewatch run`` and ``racewatch report``, a usage error under pytest, and one warning
(the program then runs unwatched) under ``RACEWATCH=1``.  A report that turns out not to
be writable at the end is one line, and every other report is still written.
"""

import subprocess
import sys
import textwrap

import pytest
from corpus_tools import clean_env, racewatch_command
from harness import run

RACY = textwrap.dedent("""\
    import sys
    import threading

    d = {}


    def work(v):
        d["k"] = v


    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if len(sys.argv) > 1:
        open(sys.argv[1], "w").close()  # a file where a report's folder will be wanted
    print("done")
    """)


@pytest.fixture
def racy(tmp_path):
    (tmp_path / "afile").write_text("a file, not a folder\n")
    program = tmp_path / "racy.py"
    program.write_text(RACY)
    return program


def racewatch(tmp_path, *args, env=None):
    return run(racewatch_command(*args), tmp_path, env or clean_env(), 60)


@pytest.mark.parametrize("args, env, line", [
    (("--json", "afile/sub/r.json", "--html", "ok.html"), {},
     "racewatch: error: option 'json': cannot write 'afile/sub/r.json': afile is not a "
     "directory"),
    (("--sarif", "."), {}, "racewatch: error: option 'sarif': cannot write '.': it is a "
                           "directory"),
    ((), {"RACEWATCH_OPTIONS": "log_path=afile/sub/x"},
     "racewatch: error: option 'log_path': cannot open 'afile/sub/x': Not a directory"),
    ((), {"RACEWATCH_OPTIONS": "stack_depth=0"},
     "racewatch: error: option 'stack_depth' in RACEWATCH_OPTIONS: 0 is out of range "
     "1..1000"),
    ((), {"RACEWATCH_OPTIONS": "log_path='unbalanced"},
     "racewatch: error: cannot parse RACEWATCH_OPTIONS: No closing quotation"),
    ((), {"RACEWATCH_OPTIONS": "colour=1"}, "racewatch: error: unknown option 'colour' in "
                                            "RACEWATCH_OPTIONS (known: "),
    (("--suppressions", "latin1.supp"), {},
     "racewatch: error: latin1.supp:2: the suppressions file is not UTF-8 (byte 0xe9)"),
], ids=["json_under_a_file", "sarif_is_a_folder", "log_path_under_a_file", "bad_value",
        "unparsable", "unknown_key", "suppressions_not_utf8"])
def test_a_bad_option_is_one_line_and_status_2_before_the_program_runs(
        racy, tmp_path, args, env, line):
    (tmp_path / "latin1.supp").write_bytes(b"# suppressions\nrace:caf\xe9\n")
    watched = racewatch(tmp_path, "run", *args, str(racy), env=clean_env(**env))
    assert watched.status == 2
    assert watched.stdout == ""  # the program did not run
    assert watched.stderr.startswith(line) and watched.stderr.count("\n") == 1, \
        watched.stderr
    assert not (tmp_path / "ok.html").exists()


def test_under_staging_a_bad_option_is_one_warning_and_the_program_runs(racy, tmp_path):
    env = clean_env(RACEWATCH="1", RACEWATCH_OPTIONS="log_path=afile/sub/x")
    watched = run([sys.executable, str(racy)], tmp_path, env, 60)
    assert (watched.status, watched.stdout) == (0, "done\n")
    assert watched.stderr == ("racewatch: warning: not started: option 'log_path': cannot "
                              "open 'afile/sub/x': Not a directory; the program runs "
                              "unwatched\n")


def test_a_report_that_cannot_be_written_at_the_end_is_one_line(racy, tmp_path):
    watched = racewatch(tmp_path, "run", "--json", "reports/r.json", "--html", "r.html",
                        str(racy), "reports")
    assert watched.status == 66  # the program's races, not the report's failure
    assert watched.stdout == "done\n"
    tail = watched.stderr.splitlines()[-2:]
    assert tail == ["racewatch: error: cannot write the JSON report to reports/r.json: "
                    "reports is not a directory", "racewatch: 1 race found"], watched.stderr
    assert "Traceback" not in watched.stderr and "Exception ignored" not in watched.stderr
    assert "data race" in (tmp_path / "r.html").read_text()


def test_racewatch_report_checks_its_paths_first(racy, tmp_path):
    env = clean_env(RACEWATCH="1", RACEWATCH_OPTIONS="log_path=races.log")
    run([sys.executable, str(racy)], tmp_path, env, 60)
    report = racewatch(tmp_path, "report", "races.log", "--json", "afile/r.json")
    assert report.status == 2 and report.stdout == ""
    assert report.stderr == ("racewatch: error: --json: cannot write 'afile/r.json': afile "
                             "is not a directory\n")


PYTEST_PROJECT = """\
    import threading

    d = {}


    def test_racy():
        threads = [threading.Thread(target=d.__setitem__, args=("k", i)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


    def test_makes_a_file_where_the_report_goes():
        open("reports", "w").close()
    """


def _pytest(tmp_path, *args):
    (tmp_path / "test_project.py").write_text(textwrap.dedent(PYTEST_PROJECT))
    env = clean_env()
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "--racewatch", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)


def test_pytest_a_report_that_cannot_be_written_is_a_usage_error(tmp_path):
    (tmp_path / "afile").write_text("")
    result = _pytest(tmp_path, "--racewatch-json", "afile/r.json")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "Traceback" not in result.stderr + result.stdout
    assert ("racewatch: option 'json': cannot write 'afile/r.json': afile is not a "
            "directory") in result.stderr


def test_pytest_keeps_its_summary_when_a_report_fails_at_the_end(tmp_path):
    result = _pytest(tmp_path, "--racewatch-json", "reports/r.json",
                     "--racewatch-html", "r.html")
    out = result.stdout
    assert "Traceback" not in out + result.stderr, out + result.stderr
    assert ("racewatch: error: cannot write the JSON report to reports/r.json: reports is "
            "not a directory") in out
    assert "racewatch: report written to r.html" in out
    assert "1 failed, 1 passed" in out.splitlines()[-1]
