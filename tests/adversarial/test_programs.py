"""The adversarial programs (``programs/``): each runs under plain python and under
racewatch, and must come out the same (see harness.py)."""


import pytest
from corpus_tools import active_core
from freethreading import FREE_THREADED
from harness import PROGRAMS, compare, headers

PURE = active_core() == "python"

# Programs that fail today for a reason known (README, Limitations), with the core they
# fail under: strict expected failures, so that the fix flips them.
KNOWN: dict[str, tuple[bool, str]] = {
    "key_hash_call_counts.py": (
        PURE or FREE_THREADED,
        "the pure-Python core hashes a key again for each lookup of its own (the compiled "
        "core hashes once per operation, but for pop on free-threaded builds, which export "
        "no atomic pop by a known hash)"),
    "key_eq_call_counts.py": (
        True, "racewatch's own table of locations compares a key with the equal (not "
              "identical) key it saw first: __eq__ runs more often than under plain python"),
    "key_eq_inserts_during_lookup.py": (
        True, "an __eq__ that inserts during a lookup runs once more for each lookup "
              "racewatch makes in its own table, and so inserts more"),
}


def _params():
    for program in sorted(PROGRAMS.glob("*.py")):
        failing, reason = KNOWN.get(program.name, (False, ""))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if failing else []
        if headers(program).get("slow") == "yes":
            marks.append(pytest.mark.slow)
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
