"""concurrent.futures: submit() before the task starts; the task's end before whatever hands
over its outcome.  The pool's own locks, queue and threads add no edge."""

import pytest
from corpus_tools import CORPUS, check_corpus_program, corpus_programs, run_plain, run_racewatch


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


LATE_IMPORT = '''
import sys
import _thread
import threading

print("imported at start:", "concurrent.futures" in sys.modules)
from concurrent.futures import ThreadPoolExecutor  # the patches apply now
import concurrent.futures.thread as pool_module

print("global lock plain:", type(pool_module._global_shutdown_lock) is _thread.LockType)
both_running = threading.Barrier(2)  # so the two tasks run on two different workers
totals = {}


def add(n):
    both_running.wait()
    totals["sum"] = totals.get("sum", 0) + n  # two tasks, nothing orders them


with ThreadPoolExecutor(max_workers=2) as pool:
    print("idle semaphore:", isinstance(pool._idle_semaphore, threading.Semaphore),
          repr(pool._idle_semaphore).startswith("<threading.Semaphore"))
    for n in range(2):
        pool.submit(add, n)
'''


def test_patched_when_the_program_imports_it_and_its_internals_stay_plain(tmp_path):
    """racewatch does not import concurrent.futures itself; the program's import of it is
    patched, the lock it makes at import stays plain (an edge there would order every
    submit), and the pool's internal semaphore is a plain Semaphore to the program."""
    program = tmp_path / "late_import.py"
    program.write_text(LATE_IMPORT)
    run = run_racewatch(tmp_path, program)
    assert run.stdout.splitlines() == ["imported at start: False", "global lock plain: True",
                                       "idle semaphore: True True"]
    assert run.status == 66
    [race] = run.report["races"]
    assert {race[side]["stack"][0]["function"] for side in ("current", "previous")} == {"add"}


KEYWORDS = '''
import inspect
import threading
from concurrent.futures import Future

shared = {}
done, failed = Future(), Future()


def work():
    shared["value"] = 1
    done.set_result(result="ok")
    failed.set_exception(exception=ValueError("no"))


threading.Thread(target=work).start()
print(done.result(timeout=5), repr(failed.exception(timeout=5)))
print(shared["value"])  # after the outcome: ordered
print(inspect.signature(Future.set_result), inspect.signature(Future.result))
print(Future.set_exception.__name__, Future.exception.__doc__.split()[:3])
'''


def test_a_futures_methods_take_their_documented_keywords(tmp_path):
    """The patched methods keep the parameters a program may name (set_result(result=...),
    result(timeout=...)), their signature and documentation, and the edge."""
    program = tmp_path / "keywords.py"
    program.write_text(KEYWORDS)
    run = run_racewatch(tmp_path, program)
    assert run.status == 0, run.stderr
    assert run.stdout == run_plain(program).stdout
    assert run.stdout.splitlines()[:3] == [
        "ok ValueError('no')", "1", "(self, result) (self, timeout=None)"]
    assert run.stdout.splitlines()[3].startswith("set_exception ['Return', 'the', 'exception")
    assert run.report["races"] == []
