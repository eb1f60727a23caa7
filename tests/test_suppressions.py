"""Suppressions: ThreadSanitizer's patterns, race: against both stacks, race_top: the top."""

import json
import subprocess

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
