"""The adversarial programs (``programs/``): each runs under plain python and under
racewatch, and must come out the same (see harness.py)."""

import pytest
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
