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


@pytest.mark.parametrize("watch, races", [("dict,list,set,attr,global", 2), ("attr", 1),
                                          ("global", 1), ("dict", 0)])
def test_watch_selects_attributes_and_globals(tmp_path, watch, races):
    program = tmp_path / "both.py"
    program.write_text(
        "import threading\n"
        "class Stats:\n"
        "    def __init__(self):\n"
        "        self.hits = 0\n"
        "stats = Stats()\n"
        "total = 0\n"
        "def work():\n"
        "    global total\n"
        "    for _ in range(20):\n"
        "        stats.hits += 1\n"
        "        total += 1\n"
        "threads = [threading.Thread(target=work) for _ in range(2)]\n"
        "for t in threads:\n"
        "    t.start()\n"
        "for t in threads:\n"
        "    t.join()\n"
        "print(stats.hits, total)\n")
    run = run_racewatch(tmp_path, program, options=("--watch", watch))
    assert run.stdout == "40 40\n", run.stderr
    assert len(run.report["races"]) == races, run.stderr
    kinds = {r["container"]["type"] for r in run.report["races"]}
    assert kinds == {"object", "module"} if races == 2 else len(kinds) == races
