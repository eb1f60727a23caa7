"""A signal handler that raises inside ``with lock:`` leaves the lock as plain Python does.

CPython runs a Python signal handler between two bytecodes, never inside the C methods of
a lock: plain ``with lock:`` either does not take the lock or releases it on the way out,
whatever the handler raises.  The program below takes a lock in a tight loop while a timer
raises in a handler every 50 microseconds, and checks after every round that the lock is
free again.  It runs under the core of this test session (RACEWATCH_CORE), as each test.

The block runs no Python code of its own: on 3.10, CPython itself skips ``__exit__`` when
a second handler raises as the first exception leaves the block (3.11 no longer checks
for signals there), and with the pure-Python core a dict access is Python code (README).
"""

import signal
import textwrap
import threading

import pytest
from corpus_tools import run_plain, run_racewatch

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="no setitimer here")

ALARMS = textwrap.dedent("""\
    import signal
    import sys
    import threading

    kind, rounds = sys.argv[1], int(sys.argv[2])


    class Alarm(Exception):
        pass


    armed = True


    def handler(signum, frame):
        # Raise only in one() or what it calls (racewatch's lock methods): anywhere else
        # the alarm is dropped, so that the loop below can tell what happened.
        for _ in range(8):
            if not armed or frame is None:
                return
            if frame.f_code is one.__code__:
                raise Alarm
            frame = frame.f_back


    lock = getattr(threading, kind)()


    def held():
        return lock._is_owned() if kind == "RLock" else lock.locked()


    def one(n):
        try:
            with lock:
                inside = n
        except Alarm:
            pass


    def main():
        global armed
        n, leaked = 0, None
        while True:
            try:
                while n < rounds and leaked is None:
                    one(n)
                    n += 1
                    if held():
                        leaked = n
                armed = False
                return leaked
            except Alarm:
                pass


    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, 5e-5, 5e-5)
    leaked = main()
    signal.setitimer(signal.ITIMER_REAL, 0)
    print(f"{kind} left held after round {leaked}" if leaked else f"{kind} always released")
    """)


@pytest.mark.parametrize("kind", ["Lock", "RLock"])
def test_a_handler_raising_in_with_lock_leaves_the_lock_free(tmp_path, kind):
    program = tmp_path / "alarms.py"
    program.write_text(ALARMS)
    plain = run_plain(program, kind, "20000")
    assert plain.stdout == f"{kind} always released\n", plain.stderr
    watched = run_racewatch(tmp_path, program, kind, "20000")
    assert watched.stdout == plain.stdout, watched.stderr
    assert watched.status == 0, watched.stderr
    assert watched.report is not None and watched.report["races"] == []


HANDLERS = textwrap.dedent("""\
    import signal
    import threading

    # Python's own SIGINT handler, as python installs it, even when started with SIGINT
    # ignored (a command run in the background by a shell, or under nohup).
    signal.signal(signal.SIGINT, signal.default_int_handler)

    def on_alarm(signum, frame):
        raise KeyError("alarm")


    print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)
    print(signal.signal(signal.SIGALRM, on_alarm) is signal.SIG_DFL)
    print(signal.getsignal(signal.SIGALRM) is on_alarm)
    print(signal.signal(signal.SIGALRM, signal.SIG_IGN) is on_alarm)
    print(signal.getsignal(signal.SIGALRM) is signal.SIG_IGN)
    signal.signal(signal.SIGALRM, on_alarm)

    for make in (threading.Lock, threading.RLock):
        lock = make()
        for signum, error in ((signal.SIGINT, KeyboardInterrupt), (signal.SIGALRM, KeyError)):
            try:
                with lock:
                    signal.raise_signal(signum)
                    print("not reached")
            except error as exc:
                print(type(exc).__name__, exc, "held:", lock.acquire(False) is False)
                lock.release()
    """)


def test_the_program_sees_its_own_handlers_and_their_exceptions(tmp_path):
    """With the pure-Python core racewatch wraps every Python-level handler: getsignal and
    signal still hand back the program's own, and what a handler raises is raised where
    plain Python raises it."""
    program = tmp_path / "handlers.py"
    program.write_text(HANDLERS)
    plain = run_plain(program)
    assert plain.status == 0, plain.stderr
    assert plain.stdout.count("True") == 5
    assert plain.stdout.count("held: False") == 4
    watched = run_racewatch(tmp_path, program)
    assert (watched.stdout, watched.status) == (plain.stdout, 0), watched.stderr


def test_stop_puts_the_handlers_back():
    """In-process: start wraps the handlers already installed (SIGINT's), stop puts back
    exactly what was there, and ``signal.signal``/``getsignal`` are the originals again."""
    import _signal

    from racewatch import session
    from racewatch.config import Options

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers are installed from the main thread only")
    before = {n: _signal.getsignal(n) for n in _signal.valid_signals()}
    functions = (_signal.signal, _signal.getsignal)
    session.start(Options(), instrument=False, print_races=False)
    try:
        # (==: a SIGINT ignored when the process started reads as Handlers.SIG_IGN here, 1
        # from _signal; a Python handler is the same function object either way)
        assert signal.getsignal(signal.SIGINT) == before[signal.SIGINT]
    finally:
        session.stop()
    assert {n: _signal.getsignal(n) for n in _signal.valid_signals()} == before
    assert (_signal.signal, _signal.getsignal) == functions
