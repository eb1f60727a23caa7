"""The adversarial programs (``programs/``): each runs under plain python and under
racewatch, and must come out the same (see harness.py)."""

import pytest
from corpus_tools import active_core
from harness import PROGRAMS, compare

# Programs that fail today for a reason known and owned elsewhere: strict expected
# failures, so that the fix flips them.
KNOWN: dict[str, str] = {}


def _params():
    for program in sorted(PROGRAMS.glob("*.py")):
        reason = KNOWN.get(program.name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(program, id=program.stem, marks=marks)


@pytest.mark.parametrize("program", list(_params()))
def test_program_runs_as_under_plain_python(program, tmp_path):
    compare(program, tmp_path)


@pytest.mark.skipif(active_core() != "c", reason="the pure-Python core's own methods are "
                    "Python frames: it has less headroom (README, Compatibility)")
def test_a_race_at_the_very_recursion_limit_is_reported(tmp_path):
    """One frame short of the limit: the compiled core's sink needs no frame of its own, so
    the race waits and is reported at exit, and the write goes through."""
    plain, watched = compare(PROGRAMS / "race_near_recursion_limit.py", tmp_path, "1")
    assert plain.stdout == "written {'k': 2}\n"
