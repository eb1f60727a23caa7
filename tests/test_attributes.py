"""The attributes corpus: racy programs report their two lines, correct ones stay silent."""

import pytest
from corpus_tools import check_corpus_program, corpus_programs, run_plain, run_racewatch


@pytest.mark.parametrize("program", corpus_programs("attributes"), ids=lambda p: p.stem)
def test_corpus(program, tmp_path):
    check_corpus_program(program, tmp_path)


def test_classes_are_hooked_once_a_second_thread_runs(tmp_path):
    """A lone thread's accesses need no checking: its classes stay as they are (and cost
    nothing) until a second thread starts."""
    program = tmp_path / "lone.py"
    program.write_text(
        "import threading\n"
        "class Job:\n"
        "    pass\n"
        "print('__setattr__' in vars(Job))\n"
        "t = threading.Thread(target=lambda: None)\n"
        "t.start()\n"
        "t.join()\n"
        "print('__setattr__' in vars(Job))\n"
        "class Later:\n"
        "    pass\n"
        "print('__setattr__' in vars(Later))\n")
    run = run_racewatch(tmp_path, program)
    assert run.status == 0, run.stderr
    assert run.stdout.split() == ["False", "True", "True"]
    assert run_plain(program).stdout.split() == ["False", "False", "False"]
