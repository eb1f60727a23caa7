"""The adversarial programs (``programs/``): each runs under plain python and under
racewatch, and must come out the same (see harness.py)."""

import sys

import pytest
from corpus_tools import active_core
from harness import PROGRAMS, compare, headers

PURE = active_core() == "python"

# Programs that fail today for a reason known, and owned by the rewrite of the engine
# (runtime/shadow.py, runtime/tracked.py and their C twins), with the core they fail
# under: strict expected failures, so that the fix flips them.
KNOWN: dict[str, tuple[bool, str]] = {
    "key_hash_and_eq_call_counts.py": (
        True, "the engine calls a key's __hash__ and __eq__ more often than plain python "
              "(it should hash once per operation)"),
    "key_eq_inserts_during_lookup.py": (
        True, "an __eq__ that inserts during a lookup leaves more keys than under plain "
              "python: the engine looks the key up again"),
    "pop_unhashable_with_default.py": (
        True, "the engine hashes the key of pop(key, default) on an empty dict, which "
              "plain python never does (TypeError: unhashable type: 'list')"),
    "key_hash_takes_a_lock.py": (
        PURE, "the pure-Python engine calls a key's __hash__ holding the dict's stripe lock "
              "(a deadlock: hangs until the timeout)"),
    "signal_handler_makes_dicts.py": (
        PURE, "the pure-Python engine's attach lock is not re-entrant: a signal handler "
              "that makes a dict in the middle of shadow_of deadlocks"),
    "finalizer_makes_dicts.py": (
        PURE and sys.version_info >= (3, 12),
        "the pure-Python engine's attach lock is not re-entrant: a __del__ that makes a "
        "dict while shadow_of holds it deadlocks (3.12 on runs a collection between any "
        "two bytecodes, 3.10 and 3.11 only where an allocation asks for one)"),
    "signal_handler_raises_inside_with_lock.py": (
        PURE, "the pure-Python lock wrapper runs Python code between the real acquire or "
              "release and returning: a handler raising there leaves the lock held"),
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
