"""Semaphore and BoundedSemaphore: a release() before the acquire() that takes its permit."""

import pytest
from corpus_tools import CORPUS, check_corpus_program, corpus_programs, run_racewatch


@pytest.mark.parametrize("program", corpus_programs("semaphores"), ids=lambda p: p.stem)
def test_corpus(program, tmp_path):
    check_corpus_program(program, tmp_path)


@pytest.mark.parametrize("program", ["racy_two_permits.py", "racy_bounded_two_permits.py"])
def test_holders_of_initial_permits_race_once_and_hold_no_lock(program, tmp_path):
    run = run_racewatch(tmp_path, CORPUS / "semaphores" / program)
    [race] = run.report["races"]
    assert race["key"] in ("'open'", "'by'")
    assert race["current"]["thread"]["id"] != race["previous"]["thread"]["id"]
    # A semaphore is not a lock: a report that showed it held would suggest it protects.
    assert race["current"]["locks_held"] == race["previous"]["locks_held"] == []
