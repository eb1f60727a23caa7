"""Thread start/join, _thread.start_new_thread and Timer: the corpus, plus thread facts."""

import textwrap

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


def test_the_thread_left_is_alone_only_once_it_has_joined_the_one_that_ended(tmp_path):
    # REGISTRY.solo: the one live thread, when every thread that ended is ordered before
    # it, whose accesses then need no record.  A thread that has ended is not ordered
    # before the one left until that one joins it: an access in between can race.
    program = tmp_path / "alone.py"
    program.write_text(textwrap.dedent("""\
        import threading
        import time

        from racewatch.runtime.shadow import REGISTRY

        shared = {}
        thread = threading.Thread(target=shared.setdefault, args=("k", 1))
        thread.start()
        while thread.is_alive():   # it has retired by then
            time.sleep(0.001)
        print("ended", len(REGISTRY.live()), REGISTRY.solo is None)
        shared["k"] = 2   # unordered with the thread's insert
        thread.join()
        print("joined", REGISTRY.solo is REGISTRY.current())
        shared["k"] = 3
    """))
    run = run_racewatch(tmp_path, program)
    assert run.stdout.splitlines()[:2] == ["ended 1 True", "joined True"], run.stderr
    assert run.status == 66
    ops = [(r["previous"]["op"], r["current"]["op"]) for r in run.report["races"]]
    assert ops == [("setdefault", "setitem")]
