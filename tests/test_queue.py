"""queue.Queue, LifoQueue, PriorityQueue, SimpleQueue: put(item) before the get() returning
it, task_done() before the join() it releases; the queues' own locks add no edge."""

import pytest
from corpus_tools import CORPUS, check_corpus_program, corpus_programs, run_racewatch


@pytest.mark.parametrize("program", corpus_programs("queues"), ids=lambda p: p.stem)
def test_corpus(program, tmp_path):
    check_corpus_program(program, tmp_path)


@pytest.mark.parametrize(("program", "producer"), [("racy_two_producers.py", "produce"),
                                                   ("racy_simple_queue_producers.py", "send")])
def test_producers_race_without_the_queue_lock_in_the_report(program, producer, tmp_path):
    run = run_racewatch(tmp_path, CORPUS / "queues" / program)
    [race] = run.report["races"]
    assert {race[side]["stack"][0]["function"] for side in ("current", "previous")} == {producer}
    assert race["current"]["thread"]["id"] != race["previous"]["thread"]["id"]
    # The queue's mutex is an internal lock: it is never shown as held.
    assert race["current"]["locks_held"] == race["previous"]["locks_held"] == []
