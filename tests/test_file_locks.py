"""File locks: an flock unlock (or close) happens before the next lock of the file.

The corpus holds the edges with bare ``fcntl``; the rest runs the libraries that lock
files for a living, as a program would use them.
"""

import os
import subprocess
import sys
import textwrap

import pytest
from corpus_tools import check_corpus_program, clean_env, corpus_programs, run_racewatch


@pytest.mark.parametrize("program", corpus_programs("file_locks"), ids=lambda p: p.stem)
def test_corpus(program, tmp_path):
    check_corpus_program(program, tmp_path)


def write_program(tmp_path, name: str, source: str):
    program = tmp_path / name
    program.write_text(textwrap.dedent(source))
    return program


COUNTER = """\
    import os
    import tempfile
    import threading
    {imports}

    workdir = tempfile.TemporaryDirectory()
    lock_path = os.path.join(workdir.name, "counter.lock")
    counts = {{"done": 0}}


    def work():
        for _ in range(10):
            with {lock}:
                counts["done"] += 1


    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(counts["done"])
    workdir.cleanup()
"""


def test_filelock_orders_its_holders(tmp_path):
    pytest.importorskip("filelock", reason="filelock is not installed")
    program = write_program(tmp_path, "ok_filelock.py", COUNTER.format(
        imports="from filelock import FileLock", lock="FileLock(lock_path)"))
    check_corpus_program(program, tmp_path)


def test_portalocker_orders_its_holders(tmp_path):
    pytest.importorskip("portalocker", reason="portalocker is not installed")
    program = write_program(tmp_path, "ok_portalocker.py", COUNTER.format(
        imports="import portalocker", lock="portalocker.Lock(lock_path, timeout=30)"))
    check_corpus_program(program, tmp_path)


def test_the_timeline_names_the_locked_file(tmp_path):
    """A race next to a FileLock: the holder's lane shows its unlock of that very file."""
    pytest.importorskip("filelock", reason="filelock is not installed")
    program = write_program(tmp_path, "racy_filelock_one_side.py", """\
        import os
        import sys
        import threading
        from filelock import FileLock

        lock_path = os.path.join(sys.argv[1], "cache.lock")
        cache = {"user:1": None}
        done_r, done_w = os.pipe()  # paces the threads; racewatch sees no edge in a pipe


        def careful():
            with FileLock(lock_path):
                cache["user:1"] = "alice"  # RACE
            os.write(done_w, b"!")


        def careless():
            os.read(done_r, 1)
            cache["user:1"] = "bob"  # RACE


        threads = [threading.Thread(target=careful), threading.Thread(target=careless)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        """)
    locks = tmp_path / "locks"
    locks.mkdir()
    run = run_racewatch(tmp_path, program, str(locks))
    assert run.status == 66, run.stderr
    (race,) = run.report["races"]
    events = race["timeline"]["previous_events"]
    label = f"flock({os.path.realpath(locks / 'cache.lock')})"
    assert {"kind": "unlock", "what": label, "direction": "release"}.items() <= \
        next(e for e in events if e["what"] == label).items(), events


def test_fasteners_interprocess_lock_lets_threads_in_together(tmp_path):
    """fasteners' InterProcessLock is lockf: "no guarantees regarding usage by multiple
    threads in a single process", says its documentation.  Both threads are inside it at
    once (the barrier in it completes), and their race is reported."""
    pytest.importorskip("fasteners", reason="fasteners is not installed")
    program = write_program(tmp_path, "racy_fasteners_threads.py", """\
        \"""Both threads add to the balance inside the lockf lock at once.

        PATTERN: lost-update
        \"""
        import os
        import tempfile
        import threading
        import fasteners

        workdir = tempfile.TemporaryDirectory()
        lock_path = os.path.join(workdir.name, "ledger.lock")
        inside = threading.Barrier(2, timeout=30)
        ledger = {"balance": 0}


        def deposit(amount):
            with fasteners.InterProcessLock(lock_path):
                ledger["balance"] += amount  # RACE
                inside.wait()


        threads = [threading.Thread(target=deposit, args=(n,)) for n in (10, 20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(ledger["balance"])
        workdir.cleanup()
        """)
    check_corpus_program(program, tmp_path)


def test_fasteners_with_a_thread_lock_is_silent(tmp_path):
    pytest.importorskip("fasteners", reason="fasteners is not installed")
    program = write_program(tmp_path, "ok_fasteners_thread_lock.py", COUNTER.format(
        imports="import fasteners\n    in_process = threading.Lock()",
        lock="in_process, fasteners.InterProcessLock(lock_path)"))
    check_corpus_program(program, tmp_path)


DOGPILE_DBM = """\
    \"""The creators count their calls under the cache's file locks.

    PATTERN: unsynchronized-handoff
    \"""
    import os
    import tempfile
    import threading
    from dogpile.cache import make_region

    workdir = tempfile.TemporaryDirectory()
    region = make_region().configure(
        "dogpile.cache.dbm", arguments={{"filename": os.path.join(workdir.name, "cache.dbm")}})
    calls = {{"creator": 0}}


    def creator():
        calls["creator"] += 1{mark}
        return calls["creator"]


    def worker():
        for _ in range(5):
            region.get_or_create("report", creator, should_cache_fn=lambda value: False)


    def peek():
        {peek}


    threads = [threading.Thread(target=f) for f in (worker, worker, peek)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(calls["creator"])
    workdir.cleanup()
"""


def test_dogpile_dbm_backend_orders_its_creators(tmp_path):
    """The DBM backend's dogpile lock and read/write lock are flock'ed files: the creator
    runs under the exclusive one."""
    pytest.importorskip("dogpile.cache", reason="dogpile.cache is not installed")
    program = write_program(tmp_path, "ok_dogpile_dbm.py",
                            DOGPILE_DBM.format(mark="", peek="pass"))
    check_corpus_program(program, tmp_path)


def test_dogpile_dbm_backend_reader_outside_the_lock_is_reported(tmp_path):
    pytest.importorskip("dogpile.cache", reason="dogpile.cache is not installed")
    peek = 'calls.get("creator")  # RACE'
    program = write_program(tmp_path, "racy_dogpile_dbm.py",
                            DOGPILE_DBM.format(mark="  # RACE", peek=peek))
    check_corpus_program(program, tmp_path)


# -- what is patched, and when ------------------------------------------------------------


def test_a_program_that_never_imports_fcntl_does_not_get_it(tmp_path):
    program = write_program(tmp_path, "no_fcntl.py", """\
        import sys
        print("fcntl" in sys.modules)
        """)
    proc = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                          env=clean_env())
    assert proc.stdout == "False\n", proc.stderr
    run = run_racewatch(tmp_path, program)
    assert (run.status, run.stdout) == (0, "False\n"), run.stderr
