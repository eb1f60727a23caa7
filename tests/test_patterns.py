"""What kind of bug each race is: the engine keeps the evidence, the rules decide, every
report says it."""

import threading
import time

import pytest

import racewatch
from racewatch import session
from racewatch.config import Options
from racewatch.runtime import objects, unset
from racewatch.runtime.settings import SETTINGS


@pytest.fixture
def conflicts():
    """The detector on, every Conflict the engine finds kept (and handed on to the race
    table as usual)."""
    active = session.start(Options(), instrument=False, print_races=False)
    found = []

    def sink(conflict):
        found.append(conflict)
        active.table.on_conflict(conflict)

    SETTINGS.sink = sink
    try:
        yield found
    finally:
        session.stop()


def in_turn(*steps):
    """Run each step in a thread of its own, one after the other in time, with nothing that
    orders them (sleeping on a plain flag is not synchronization)."""
    done = []

    def run(i, step):
        while len(done) < i:
            time.sleep(0.001)
        step()
        done.append(i)

    threads = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate(steps)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_a_write_carries_its_threads_own_check_of_the_key(conflicts):
    d = racewatch.track({})

    def first():
        d["k"] = 1

    def second():
        if "k" not in d or True:
            d["k"] = 2

    in_turn(first, second)
    writes = [c for c in conflicts if c.current.write]
    assert [c.current.op for c in writes] == ["setitem"]
    prior = writes[0].current_prior
    assert prior is not None and prior.op == "contains" and not prior.write
    assert (prior.slot, prior.clock) == (writes[0].current.slot, writes[0].current.clock)
    reads = [c for c in conflicts if not c.current.write]
    assert [c.current.op for c in reads] == ["contains"]
    assert reads[0].current_prior is None


def test_an_insert_carries_its_threads_own_read_of_the_keys(conflicts):
    d = racewatch.track({"a": 1})

    def first():
        len(d)

    def second():
        if len(d) < 10:
            d["new"] = 2

    in_turn(first, second)
    (c,) = [c for c in conflicts if c.on_keys]
    assert (c.previous.op, c.current.op) == ("len", "setitem")
    assert c.current_prior is not None and c.current_prior.op == "len"
    assert c.current_prior.slot == c.current.slot


def test_a_read_before_a_release_is_not_the_writes_check(conflicts):
    d = racewatch.track({})
    lock = threading.Lock()

    def first():
        d["k"] = 1

    def second():
        "k" in d  # noqa: B015 -- the check
        with lock:   # its release ends the epoch: the write is not the act of that check
            pass
        d["k"] = 2

    in_turn(first, second)
    (write,) = [c for c in conflicts if c.current.write]
    assert write.current_prior is None


class Lazy:
    """A class of the test module, watched as instrumented code's are (hooked by hand)."""

    def __init__(self):
        self.conn = None
        self.balance = 100


def test_a_read_that_finds_an_attribute_unset_is_remembered(conflicts):
    """The evidence of a lazy initialization: the value the check read, which the accesses
    do not show (``if self.balance >= n`` and ``if self.conn is None`` look alike)."""
    objects.track_class(Lazy)
    objects.hook_class(Lazy)
    shared = Lazy()

    def check():
        objects.access(shared, "conn", "getattr", False, shared.conn is None)
        objects.access(shared, "balance", "getattr", False, shared.balance is None)
        objects.access(shared, "missing", "getattr", False, True)

    in_turn(lambda: None, check)
    sh = objects.shadow_of(shared)
    assert unset.seen_unset(sh, "conn") and unset.seen_unset(sh, "missing")
    assert not unset.seen_unset(sh, "balance")
    assert not unset.seen_unset(sh, ["unhashable"])
