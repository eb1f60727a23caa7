"""Suppressions: ThreadSanitizer's patterns, race: against both stacks, race_top: the top;
comments, the file's encoding, and the patterns that matched nothing in a whole run."""

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from corpus_tools import clean_env, racewatch_command

from racewatch.config import OptionError
from racewatch.reports.model import AccessInfo, Container, Frame, Race, ThreadRef
from racewatch.suppressions import Suppressions


def race(current_frames, previous_frames):
    def access(frames):
        return AccessInfo("setitem", True, ThreadRef("t", 1), [], [Frame(*f) for f in frames])

    return Race("write/write", Container("dict", []), "'k'", access(current_frames),
                access(previous_frames))


RACE = race([("/app/cache.py", 10, "Cache.put"), ("/app/main.py", 3, "main")],
            [("/venv/site-packages/lib/store.py", 5, "store_value"), ("/app/main.py", 4, "run")])


def rules(tmp_path, text):
    path = tmp_path / "supp.txt"
    path.write_text(text)
    return Suppressions.load(path)


@pytest.mark.parametrize("text, suppressed", [
    ("race:Cache.put", True),
    ("race:store_value", True),           # the previous stack counts too
    ("race:main.py", True),               # a file path, deep in a stack
    ("race_top:Cache.put", True),
    ("race_top:store_value", True),       # the innermost frame of the other access
    ("race_top:main", False),             # only deeper frames match
    ("race:^Cache", True),
    ("race:^put", False),
    ("race:put$", True),
    ("race:*/lib/*", True),
    ("race:other", False),
    ("# just a comment\n\n", False),
    ("race:Cache.put     # why: a trailing comment", True),
    ("race_top:store_value\t# after a tab", True),
    ("race:other  # Cache.put, in the comment only", False),
    ("race:Cache.put#x", False),          # no space before it: part of the pattern
    ("  race:Cache.put  ", True),
])
def test_patterns(tmp_path, text, suppressed):
    assert rules(tmp_path, text).suppresses(RACE) is suppressed


@pytest.mark.parametrize("text", ["called_from_lib:x", "race", "race:", "deadlock:x"])
def test_bad_lines_are_named(tmp_path, text):
    with pytest.raises(OptionError, match="supp.txt:1: expected race:PATTERN"):
        rules(tmp_path, text)


def test_missing_file(tmp_path):
    with pytest.raises(OptionError, match="cannot read the suppressions file"):
        Suppressions.load(tmp_path / "nope.txt")


def test_ignore_comment_on_either_line(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("a = 1\nd['k'] = 2  # racewatch: ignore\n")
    commented = race([(str(source), 1, "f")], [(str(source), 2, "g")])
    assert Suppressions().suppresses(commented)
    assert not Suppressions().suppresses(race([(str(source), 1, "f")], [(str(source), 1, "g")]))


# -- what the user sees: the summary counts what was suppressed ---------------------------

TWO_RACES = """\
import threading

hits = {}
names = {}


def bump_hits():
    hits["n"] = hits.get("n", 0) + 1


def set_owner():
    names["who"] = threading.current_thread().name


def work():
    bump_hits()
    set_owner()


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


def run_with_suppressions(tmp_path, text, *more):
    (tmp_path / "app.py").write_text(TWO_RACES)
    (tmp_path / "supp.txt").write_text(text)
    return subprocess.run(
        racewatch_command("run", "--suppressions", "supp.txt", "--json", "r.json", *more,
                          "app.py"),
        capture_output=True, text=True, cwd=tmp_path, env=clean_env(), timeout=120)


def test_closing_line_counts_suppressed_races(tmp_path):
    run = run_with_suppressions(tmp_path, "race_top:bump_hits\n")
    assert run.returncode == 66, run.stderr
    assert run.stderr.count("WARNING: racewatch: data race") == 1
    assert "in set_owner" in run.stderr and "in bump_hits" not in run.stderr
    assert run.stderr.rstrip().splitlines()[-1] == "racewatch: 1 race found, 1 suppressed"
    summary = json.loads((tmp_path / "r.json").read_text())["summary"]
    assert (summary["races"], summary["suppressed_races"]) == (1, 1)
    assert summary["suppressed"] >= 1  # occurrences


def test_everything_suppressed_exits_0_and_says_so(tmp_path):
    run = run_with_suppressions(tmp_path, "race:app.py\n")
    assert run.returncode == 0, run.stderr
    assert run.stderr.strip() == "racewatch: no races found, 2 suppressed"


def test_nothing_suppressed_keeps_the_plain_line(tmp_path):
    run = run_with_suppressions(tmp_path, "# nothing\n")
    assert run.stderr.rstrip().splitlines()[-1] == "racewatch: 2 races found"


def test_merged_logs_count_suppressed_races(tmp_path):
    run_with_suppressions(tmp_path, "race_top:set_owner\n", "--log-path", "app.log")
    run = subprocess.run(racewatch_command("report", "app.log"), capture_output=True,
                         text=True, cwd=tmp_path, env=clean_env(), timeout=120)
    assert run.returncode == 66, run.stderr
    assert run.stdout.rstrip().splitlines()[-1].startswith("racewatch: 1 race found in 1 process")
    assert run.stdout.rstrip().endswith(", 1 suppressed")


def test_the_readme_example_means_what_it_says(tmp_path):
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    example = re.search(r"```\n(# comments and blank lines are ignored\n.*?)```", readme,
                        re.S).group(1)
    assert "# a function name" in example  # the example has trailing comments
    assert [str(rule) for rule in rules(tmp_path, example).rules] == \
        ["race:mypkg/vendored/*", "race_top:Cache.get"]


def test_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "supp.txt"
    path.write_bytes(b"race:caf\xe9\n")
    with pytest.raises(OptionError, match=r"supp.txt:1: the suppressions file is not UTF-8 "
                                          r"\(byte 0xe9\)"):
        Suppressions.load(path)


def test_every_matching_rule_is_used_and_the_others_are_named(tmp_path):
    s = rules(tmp_path, "race:Cache.put\nrace:main.py\nrace_top:nothing\nrace:other\n")
    assert s.unused() == ["race:Cache.put", "race:main.py", "race_top:nothing", "race:other"]
    assert s.suppresses(RACE)
    assert s.unused() == ["race_top:nothing", "race:other"]


# -- in a run: racewatch run, staging, pytest --racewatch (real processes) -------------------

RACY = """\
    import threading

    counts = {"n": 0}


    def bump():
        counts["n"] += 1


    def in_threads():
        threads = [threading.Thread(target=bump) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


    if __name__ == "__main__":
        in_threads()
        print("done")
    """

SUPPRESSIONS = "# known\nrace:bump     # the counter, on purpose\nrace_top:stale_name  # moved\n"
UNUSED = "racewatch: suppression 'race_top:stale_name' matched nothing\n"


def project(tmp_path: Path, suppressions: str = SUPPRESSIONS) -> Path:
    (tmp_path / "racy.py").write_text(textwrap.dedent(RACY))
    (tmp_path / "supp.txt").write_text(suppressions)
    return tmp_path


def run(*args, cwd, env=None):
    return subprocess.run(list(args), capture_output=True, text=True, cwd=cwd,
                          env=env or clean_env(), timeout=120)


def test_racewatch_run_suppresses_and_names_the_unused_pattern(tmp_path):
    project(tmp_path)
    result = run(*racewatch_command("run", "--suppressions", "supp.txt", "racy.py"),
                 cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "done\n"), result.stderr
    assert result.stderr == "racewatch: no races found, 1 suppressed\n" + UNUSED


def test_staging_names_the_unused_pattern(tmp_path):
    project(tmp_path)
    env = clean_env(RACEWATCH="1", RACEWATCH_OPTIONS="suppressions=supp.txt")
    result = run(sys.executable, "racy.py", cwd=tmp_path, env=env)
    assert (result.returncode, result.stdout) == (0, "done\n"), result.stderr
    assert result.stderr == "racewatch: no races found, 1 suppressed\n" + UNUSED


def test_no_line_when_every_pattern_matched(tmp_path):
    project(tmp_path, "race:bump\n")
    result = run(*racewatch_command("run", "--suppressions", "supp.txt", "racy.py"),
                 cwd=tmp_path)
    assert result.stderr == "racewatch: no races found, 1 suppressed\n"


def pytest_env() -> dict:
    env = clean_env()
    for var in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID",
                "PYTEST_ADDOPTS"):
        env.pop(var, None)
    return env


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_pytest_names_a_pattern_unused_in_every_worker(tmp_path, workers):
    """Under xdist, a pattern is unused only when no worker used it: the racy test runs
    in one worker, the quiet ones in the other."""
    project(tmp_path)
    (tmp_path / "test_racy.py").write_text("import racy\n\n\ndef test_racy():\n"
                                           "    racy.in_threads()\n")
    (tmp_path / "test_quiet.py").write_text(
        "".join(f"def test_quiet_{i}():\n    pass\n\n\n" for i in range(4)))
    result = run(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *workers,
                 "--racewatch", "--racewatch-suppressions", "supp.txt", cwd=tmp_path,
                 env=pytest_env())
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.split("racewatch =")[-1]
    assert "racewatch: no races found, 1 suppressed\n" + UNUSED in summary
    assert "race:bump" not in summary


def test_a_file_that_is_not_utf8_is_one_line_before_the_program_starts(tmp_path):
    project(tmp_path)
    (tmp_path / "supp.txt").write_bytes(b"race:bump # caf\xe9\n")
    result = run(*racewatch_command("run", "--suppressions", "supp.txt", "racy.py"),
                 cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == ("racewatch: error: supp.txt:1: the suppressions file is not "
                             "UTF-8 (byte 0xe9)\n")
    result = run(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--racewatch",
                 "--racewatch-suppressions", "supp.txt", cwd=tmp_path, env=pytest_env())
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.strip() == ("ERROR: racewatch: supp.txt:1: the suppressions file is "
                                     "not UTF-8 (byte 0xe9)")
