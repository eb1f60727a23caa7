"""threading.Event: set() before a wait() or is_set() that sees it set."""

import pytest
from corpus_tools import CORPUS, check_corpus_program, corpus_programs, run_racewatch


@pytest.mark.parametrize("program", corpus_programs("events"), ids=lambda p: p.stem)
def test_corpus(program, tmp_path):
    check_corpus_program(program, tmp_path)


def test_timed_out_wait_reports_the_write_and_the_read(tmp_path):
    run = run_racewatch(tmp_path, CORPUS / "events" / "racy_wait_timeout.py")
    [race] = run.report["races"]
    assert race["key"] == "'total'"
    # Which access comes first depends on the schedule; the pair does not.
    accesses = {race[side]["op"]: race[side]["write"] for side in ("current", "previous")}
    assert accesses == {"setitem": True, "get": False}
    assert race["kind"] in ("write/read", "read/write")
    # The Event's internal Condition is not a lock the user holds.
    assert race["current"]["locks_held"] == race["previous"]["locks_held"] == []
