"""threading.Barrier: every party's arrival before every party's departure."""

import pytest
from corpus_tools import CORPUS, check_corpus_program, corpus_programs, run_racewatch


@pytest.mark.parametrize("program", corpus_programs("barriers"), ids=lambda p: p.stem)
def test_corpus(program, tmp_path):
    check_corpus_program(program, tmp_path)


def test_write_after_barrier_is_reported_between_the_two_parties(tmp_path):
    program = CORPUS / "barriers" / "racy_write_after_barrier.py"
    run = run_racewatch(tmp_path, program)
    [race] = run.report["races"]
    assert race["key"] == "'leader'"
    functions = {race[side]["stack"][0]["function"] for side in ("current", "previous")}
    assert functions == {"elect", "follow"}
    assert race["current"]["locks_held"] == race["previous"]["locks_held"] == []
