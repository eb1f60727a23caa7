"""The program's own code that racewatch runs in the middle of an access (a key's __hash__
and __eq__, a finalizer, a signal handler) runs under no lock of racewatch's: it can take
the program's own locks, and make and share dicts, without deadlocking."""

import textwrap

import pytest
from corpus_tools import run_plain, run_racewatch

HASH_TAKES_A_LOCK = """\
    import threading
    import time

    L = threading.Lock()


    class Key:
        def __hash__(self):
            with L:  # another thread holds L while it writes the dict
                return 1

        def __eq__(self, other):
            return self is other


    d = {"a": 0}
    key = Key()
    stop = time.monotonic() + 0.5


    def hasher():
        while time.monotonic() < stop:
            d[key] = 1


    def writer():
        i = 0
        while time.monotonic() < stop:
            with L:
                d["b"] = i
            i += 1


    threads = [threading.Thread(target=hasher), threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sorted(k for k in d if isinstance(k, str)), key in d)
    """

SIGNAL_HANDLER_MAKES_DICTS = """\
    import signal
    import threading

    made = []


    def handler(signum, frame):
        made.append({"n": len(made)})  # a new dict, shared below


    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)
    other = threading.Thread(target=lambda: None)
    other.start()
    for i in range(20000):
        d = {"i": i}
        d["j"] = i
    signal.setitimer(signal.ITIMER_REAL, 0, 0)
    other.join()
    print(len(made) > 0)
    """

FINALIZER_MAKES_DICTS = """\
    import gc
    import threading


    class Noisy:
        def __del__(self):
            {"x": 1}["y"] = 2


    other = threading.Thread(target=lambda: None)
    other.start()
    for i in range(3000):
        a, b = Noisy(), Noisy()
        a.other, b.other = b, a  # a cycle: the collector runs __del__ where it likes
        d = {"i": i}
        d["j"] = i
    gc.collect()
    other.join()
    print("done")
    """


@pytest.mark.parametrize("source", [HASH_TAKES_A_LOCK, SIGNAL_HANDLER_MAKES_DICTS,
                                    FINALIZER_MAKES_DICTS],
                         ids=["hash-takes-a-lock", "signal-handler", "finalizer"])
def test_it_runs_to_its_end_as_under_python(tmp_path, source):
    program = tmp_path / "program.py"
    program.write_text(textwrap.dedent(source))
    plain = run_plain(program)
    watched = run_racewatch(tmp_path, program)  # a deadlock ends in the runner's timeout
    assert watched.stdout == plain.stdout and plain.status == 0, watched.stderr
    assert watched.status == 0, watched.stderr
