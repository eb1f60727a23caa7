"""Thread start/join, _thread.start_new_thread and Timer: the corpus, plus thread facts."""

import pytest
from corpus_tools import CORPUS, check_corpus_program, corpus_programs, run_racewatch


@pytest.mark.parametrize("program", corpus_programs("threads"), ids=lambda p: p.stem)
def test_corpus(program, tmp_path):
    check_corpus_program(program, tmp_path)


def test_thread_names_and_creation_sites_are_reported(tmp_path):
    program = CORPUS / "threads" / "racy_two_workers.py"
    start_line = program.read_text().splitlines().index("    t.start()") + 1
    run = run_racewatch(tmp_path, program)
    race = run.report["races"][0]
    for side in ("current", "previous"):
        thread = race[side]["thread"]
        assert thread["name"].startswith("Thread-")
        assert thread["created_at"][0]["line"] == start_line
        assert thread["created_at"][0]["function"] == "<module>"
    assert race["current"]["thread"]["id"] != race["previous"]["thread"]["id"]
