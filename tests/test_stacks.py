"""The stacks in a report are the stacks the accesses were made from, however a core finds
them: the compiled core remembers each thread's recent walks of its frames and takes the
stack of a remembered walk whose frames match, so a function reached from the same line of
the same caller, by two different outer callers, must still show each its own."""

import textwrap

import pytest
from corpus_tools import clean_env, run_racewatch

try:
    from racewatch import _core as compiled
except ImportError:
    compiled = None
CORES = ["c", "python"] if hasattr(compiled, "SETTINGS") else ["python"]

# One thread bumps a counter through bump() <- middle() <- from_a() many times (more than a
# thread walks its frames before it remembers its walks), then, in a new epoch (the
# unrelated lock's release ends the one before), once through the same two lines but
# from_b().  Its last access is the one from_b() made.  The second thread waits for that
# (through a bytearray, which racewatch does not watch: no happens-before) and reads the
# counter: its race is with the from_b() access, and the report must say so.
PROGRAM = textwrap.dedent("""\
    import threading
    import time

    counts = {}
    other = threading.Lock()
    done = bytearray(1)


    def bump():
        counts["n"] = counts.get("n", 0) + 1


    def middle():
        bump()


    def from_a():
        for _ in range(400):
            middle()
            with other:
                pass


    def from_b():
        middle()


    def first():
        from_a()
        from_b()
        done[0] = 1


    def second():
        while not done[0]:
            time.sleep(0.01)
        print(counts["n"])


    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    """)


@pytest.mark.parametrize("core", CORES)
def test_a_callee_reached_from_two_callers_shows_the_caller_it_ran_from(tmp_path, core):
    program = tmp_path / "two_callers.py"
    program.write_text(PROGRAM)
    run = run_racewatch(tmp_path, program, env=clean_env(RACEWATCH_CORE=core))
    assert run.status == 66, run.stderr
    assert run.stdout.strip() == "401"
    race = run.report["races"][0]
    previous = [f["function"] for f in race["previous"]["stack"]]
    current = [f["function"] for f in race["current"]["stack"]]
    assert previous[:4] == ["bump", "middle", "from_b", "first"], previous
    assert current[0] == "second", current
