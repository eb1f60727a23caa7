"""concurrent.futures: submit() before the task starts; the task's end before whatever hands
over its outcome.  The pool's own locks, queue and threads add no edge."""

import pytest
from corpus_tools import CORPUS, check_corpus_program, corpus_programs, run_racewatch


@pytest.mark.parametrize("program", corpus_programs("futures"), ids=lambda p: p.stem)
def test_corpus(program, tmp_path):
    check_corpus_program(program, tmp_path)


def test_task_side_of_a_race_names_the_task_and_a_pool_thread(tmp_path):
    run = run_racewatch(tmp_path, CORPUS / "futures" / "racy_read_before_result.py")
    [race] = run.report["races"]
    sides = {race[side]["stack"][0]["function"]: race[side] for side in ("current", "previous")}
    assert set(sides) == {"download", "<module>"}
    task = sides["download"]
    assert task["op"] == "setitem" and task["write"]
    assert task["thread"]["name"].startswith("ThreadPoolExecutor-")
    assert sides["<module>"]["op"] == "get"
    assert task["locks_held"] == sides["<module>"]["locks_held"] == []
