"""Suppressions: ThreadSanitizer's patterns, race: against both stacks, race_top: the top."""

import pytest

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
