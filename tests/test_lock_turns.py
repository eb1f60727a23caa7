"""A thread waiting in a tracked lock's blocking acquire(): it gets the lock, and a signal
reaches it, as with the real lock.

On GIL builds the compiled core's acquire() first waits for a release with the GIL given
up and takes the lock only once it has the GIL back, for up to one switch interval, then
waits as the real lock does (racewatch/_core/locks.c, ``wait_turn``; the README's "Locks
and the GIL").  On free-threaded builds it first tries the lock again between batches of
yields, for up to a millisecond, then waits as the real lock does (``spin_acquire``).
These programs check what a user would notice if that went wrong: a waiter
that never gets a lock its holder keeps taking back, a Ctrl-C that does not stop a thread
waiting for a lock.  They run under the core of the test session (RACEWATCH_CORE).
"""

import sys
import textwrap

import pytest
from corpus_tools import run_plain, run_racewatch

# The holder keeps the lock all but an instant of each round: it gives the GIL up inside
# its critical section (sleep) and takes the lock back as soon as it has let it go.  The
# main thread asks for the lock once; it must get it long before the holder gives up.
TAKEN_BACK = textwrap.dedent("""\
    import sys
    import threading
    import time

    lock = getattr(threading, sys.argv[1])()
    stop = threading.Event()
    started = threading.Event()


    def holder():
        deadline = time.monotonic() + 20
        while not stop.is_set() and time.monotonic() < deadline:
            with lock:
                started.set()
                time.sleep(0.0005)


    t = threading.Thread(target=holder)
    t.start()
    started.wait()
    time.sleep(0.05)
    t0 = time.monotonic()
    with lock:
        waited = time.monotonic() - t0
        stop.set()
    t.join()
    print("got the lock" if waited < 5 else f"waited {waited:.1f} s")
""")

# A thread holds the lock until the end; the main thread waits for it, and a timer sends
# the main thread SIGINT.  With a long switch interval the wait is still in its first part
# (see the module's docstring) when the signal comes.
INTERRUPTED = textwrap.dedent("""\
    import signal
    import sys
    import threading
    import time

    sys.setswitchinterval(float(sys.argv[2]))
    lock = getattr(threading, sys.argv[1])()
    taken, done = threading.Event(), threading.Event()


    def holder():
        with lock:
            taken.set()
            done.wait()


    t = threading.Thread(target=holder)
    t.start()
    taken.wait()
    main = threading.main_thread().ident
    threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGINT)).start()
    try:
        lock.acquire()
        print("acquired")
    except KeyboardInterrupt:
        print("interrupted")
    done.set()
    t.join()
    with lock:
        print("free again")
""")


# Four threads take one lock in every way there is, and give the GIL up inside it between
# reading the count and writing it back: a second thread inside would lose an update.
EXCLUSIVE = textwrap.dedent("""\
    import sys
    import threading
    import time

    lock = getattr(threading, sys.argv[1])()
    cond = threading.Condition(lock)
    count = [0]


    def bump():
        n = count[0]
        time.sleep(0)
        count[0] = n + 1


    def work(way):
        for i in range(300):
            if way == 0:
                with lock:
                    bump()
            elif way == 1:
                lock.acquire()
                bump()
                lock.release()
            elif way == 2:
                while not lock.acquire(timeout=0.001):
                    pass
                bump()
                lock.release()
            else:
                with cond:
                    cond.wait(0.0001 if i % 50 == 0 else 0)
                    bump()


    threads = [threading.Thread(target=work, args=(way,)) for way in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(count[0])
""")


@pytest.mark.parametrize("kind", ["Lock", "RLock"])
def test_one_thread_at_a_time_whichever_way_the_lock_is_taken(tmp_path, kind):
    program = tmp_path / "exclusive.py"
    program.write_text(EXCLUSIVE)
    run = run_racewatch(tmp_path, program, kind)
    assert run.status == 0, run.stderr
    assert run.stdout == "1200\n"
    assert run.report["races"] == []


@pytest.mark.parametrize("kind", ["Lock", "RLock"])
def test_a_waiter_gets_a_lock_its_holder_keeps_taking_back(tmp_path, kind):
    program = tmp_path / "taken_back.py"
    program.write_text(TAKEN_BACK)
    assert run_plain(program, kind).stdout == "got the lock\n"
    run = run_racewatch(tmp_path, program, kind)
    assert run.status == 0, run.stderr
    assert run.stdout == "got the lock\n"


# One thread holds a Condition's lock and then waits on the Condition, which lets the lock
# go; another thread asked for the lock meanwhile.  The switch interval is long, so the
# asker is still in the first part of its wait (see the module's docstring) when the lock
# is let go: it must get the lock then, not at the end of that part.
CONDITION_WAIT = textwrap.dedent("""\
    import sys
    import threading
    import time

    sys.setswitchinterval(30)
    cond = threading.Condition(getattr(threading, sys.argv[1])())
    ready = []
    holding = threading.Event()


    def waiter():
        with cond:
            holding.set()
            time.sleep(0.3)
            cond.wait_for(lambda: ready, timeout=60)


    t = threading.Thread(target=waiter)
    t.start()
    holding.wait()
    t0 = time.monotonic()
    with cond:
        waited = time.monotonic() - t0
        ready.append(1)
        cond.notify()
    t.join()
    print("got the lock" if waited < 10 else f"waited {waited:.1f} s")
""")


@pytest.mark.parametrize("kind", ["Lock", "RLock"])
def test_a_condition_wait_lets_a_waiter_in(tmp_path, kind):
    program = tmp_path / "condition_wait.py"
    program.write_text(CONDITION_WAIT)
    assert run_plain(program, kind).stdout == "got the lock\n"
    run = run_racewatch(tmp_path, program, kind)
    assert run.status == 0, run.stderr
    assert run.stdout == "got the lock\n"


@pytest.mark.skipif(sys.platform == "win32", reason="pthread_kill")
@pytest.mark.parametrize("interval", ["10", "0.005"], ids=["waiting-for-a-release",
                                                          "waiting-as-the-real-lock"])
@pytest.mark.parametrize("kind", ["Lock", "RLock"])
def test_ctrl_c_stops_a_thread_waiting_for_a_lock(tmp_path, kind, interval):
    program = tmp_path / "interrupted.py"
    program.write_text(INTERRUPTED)
    expected = "interrupted\nfree again\n"
    assert run_plain(program, kind, interval).stdout == expected
    run = run_racewatch(tmp_path, program, kind, interval)
    assert run.status == 0, run.stderr
    assert run.stdout == expected
