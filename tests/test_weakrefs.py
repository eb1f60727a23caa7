"""Weak registries: a WeakValueDictionary value's death happens before a lookup of its key
that finds it gone."""

import re
import textwrap

import pytest
from corpus_tools import check_corpus_program, corpus_programs, run_racewatch


@pytest.mark.parametrize("program", corpus_programs("weakrefs"), ids=lambda p: p.stem)
def test_corpus(program, tmp_path):
    check_corpus_program(program, tmp_path)


def write_program(tmp_path, name: str, source: str):
    program = tmp_path / name
    program.write_text(textwrap.dedent(source))
    return program


# The second job comes once the first one is over (the sleep is not synchronization): it
# finds the first job's lock gone and makes a new one.
SEQUENTIAL_JOBS = """\
    import threading
    import time
    {imports}

    report = {{"status": "new"}}


    def run_job(status):
        {job}


    first = threading.Thread(target=run_job, args=("draft",))
    first.start()
    time.sleep(0.2)
    second = threading.Thread(target=run_job, args=("final",))
    second.start()
    first.join()
    second.join()
    print(report["status"])
"""


def test_dogpile_name_registry(tmp_path):
    pytest.importorskip("dogpile.cache", reason="dogpile.cache is not installed")
    program = write_program(tmp_path, "ok_dogpile_name_registry.py", SEQUENTIAL_JOBS.format(
        imports=textwrap.dedent("""\
            from dogpile.util import NameRegistry


            class Mutex:
                def __init__(self, name):
                    self.lock = threading.Lock()


            registry = NameRegistry(Mutex)""").replace("\n", "\n    "),
        job="""mutex = registry.get("report:42")  # held until the job is over
        with mutex.lock:
            report["status"] = status"""))
    check_corpus_program(program, tmp_path)


def test_dogpile_region_key_mutexes(tmp_path):
    """A region's per-key creation mutexes live in a NameRegistry: each creation of a value
    that is never cached takes a fresh one."""
    pytest.importorskip("dogpile.cache", reason="dogpile.cache is not installed")
    program = write_program(tmp_path, "ok_dogpile_region.py", SEQUENTIAL_JOBS.format(
        imports=textwrap.dedent("""\
            from dogpile.cache import make_region

            region = make_region().configure("dogpile.cache.memory")""").replace("\n", "\n    "),
        job="""def create():
            report["status"] = status
            return status

        region.get_or_create("report:42", create, should_cache_fn=lambda value: False)"""))
    check_corpus_program(program, tmp_path)


def test_oslo_concurrency_synchronized(tmp_path):
    """oslo.concurrency's internal locks: a weak registry of semaphores by name."""
    pytest.importorskip("oslo_concurrency", reason="oslo.concurrency is not installed")
    program = write_program(tmp_path, "ok_oslo_synchronized.py", SEQUENTIAL_JOBS.format(
        imports=textwrap.dedent("""\
            from oslo_concurrency import lockutils


            @lockutils.synchronized("report:42")
            def publish(status):
                report["status"] = status""").replace("\n", "\n    "),
        job="publish(status)"))
    check_corpus_program(program, tmp_path)


def test_initial_values_die_with_the_edge_too(tmp_path):
    """A value the dictionary was made with gets the same callback as one set later.

    The value is made in a thread that has ended: a free-threaded CPython frees an object
    that another thread lets go of in the thread that made it, once that thread runs
    again (biased reference counting, README: Limitations), and the first job would not
    be the one it dies in; an object whose thread has ended dies where it is let go of.
    """
    program = write_program(tmp_path, "ok_initial_values.py", SEQUENTIAL_JOBS.format(
        imports=textwrap.dedent("""\
            import weakref


            class KeyLock:
                def __init__(self):
                    self.lock = threading.Lock()


            initial = []  # the only strong reference, until the first job
            maker = threading.Thread(target=lambda: initial.append(KeyLock()))
            maker.start()
            maker.join()
            registry = weakref.WeakValueDictionary({"report:42": initial[0]})
            registry_guard = threading.Lock()


            def lock_for(key):
                with registry_guard:
                    try:
                        return registry[key]
                    except KeyError:
                        registry[key] = made = KeyLock()
                        return made""").replace("\n", "\n    "),
        job="""key_lock = lock_for("report:42")
        initial.clear()
        with key_lock.lock:
            report["status"] = status
        del key_lock"""))
    check_corpus_program(program, tmp_path)


def test_the_timeline_shows_the_death(tmp_path):
    """A race between jobs on two keys: the first job's lane shows its lock dying."""
    program = write_program(tmp_path, "racy_two_keys.py", """\
        import threading
        import time
        import weakref


        class KeyLock:
            def __init__(self):
                self.lock = threading.Lock()


        registry = weakref.WeakValueDictionary()
        report = {"status": "new"}


        def run_job(key, status):
            key_lock = registry.get(key)
            if key_lock is None:
                key_lock = registry.setdefault(key, KeyLock())
            with key_lock.lock:
                report["status"] = status  # RACE


        first = threading.Thread(target=run_job, args=("report:42", "draft"))
        first.start()
        time.sleep(0.2)
        second = threading.Thread(target=run_job, args=("report-42", "final"))
        second.start()
        first.join()
        second.join()
        """)
    run = run_racewatch(tmp_path, program)
    assert run.status == 66, run.stderr
    (race,) = run.report["races"]
    events = race["timeline"]["previous_events"]
    died = [e for e in events if e["kind"] == "value died"]
    assert [e["direction"] for e in died] == ["release"], events
    assert re.fullmatch(r"WeakValueDictionary#\d+\['report:42'\]", died[0]["what"]), died
