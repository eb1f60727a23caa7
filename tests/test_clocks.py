"""The edge operations on vector clocks: an acquire that skips the join (the releaser's
epoch already known, FastTrack's rule) leaves exactly the clock a full join would."""

import random

import pytest

from racewatch.runtime.clock import joined
from racewatch.runtime.sync import (
    SyncVar,
    acquire,
    acquire_clock,
    release_join,
    release_store,
    snapshot,
)
from racewatch.runtime.threads import ThreadInfo, ThreadState


class World:
    """Threads on clock slots, as threads.py's registry hands them out: a thread that takes
    a dead thread's slot starts above the last value the slot had, from the clock it
    inherits (ordered or not after the dead thread's end)."""

    def __init__(self, rng: random.Random, slots: int):
        self.rng = rng
        self.last = [0] * slots
        self.threads: list[ThreadState] = []
        for slot in range(slots):
            self.threads.append(self.begin(slot, None))

    def begin(self, slot: int, inherit):
        vc = list(inherit) if inherit is not None else []
        vc.extend([0] * (len(self.last) - len(vc)))
        vc[slot] = max(vc[slot], self.last[slot]) + 1
        info = ThreadInfo(slot, f"T{slot}", 0, (), None)
        return ThreadState(info, slot, vc)

    def replace(self, slot: int, parent: ThreadState) -> None:
        """The thread on ``slot`` ends; a new one, started by ``parent``, takes the slot
        (whether ``parent`` saw the end or not)."""
        old = self.threads[slot]
        old.dead = True
        self.last[slot] = old.clock
        self.threads[slot] = self.begin(slot, snapshot(parent, "start", "t"))


def acquire_and_compare(sv, ts) -> None:
    """``acquire`` must leave what joining the published clock leaves."""
    state = sv.state
    expected = joined(list(ts.vc), state[0]) if state is not None else list(ts.vc)
    expected.extend([0] * (len(ts.vc) - len(expected)))
    acquire(sv, ts)
    assert ts.vc == expected
    assert ts.clock == ts.vc[ts.slot]


@pytest.mark.parametrize("seed", range(20))
def test_skipped_joins_lose_nothing(seed):
    rng = random.Random(seed)
    world = World(rng, 5)
    locks = [SyncVar(f"Lock#{i}") for i in range(3)]
    events = [SyncVar(f"Event#{i}") for i in range(2)]
    handed: list[list[int]] = []
    for _ in range(3000):
        ts = rng.choice(world.threads)
        op = rng.random()
        if op < 0.3:
            release_store(rng.choice(locks), ts)
        elif op < 0.6:
            acquire_and_compare(rng.choice(locks), ts)
        elif op < 0.7:
            release_join(rng.choice(events), ts)
        elif op < 0.8:
            acquire_and_compare(rng.choice(events), ts)
        elif op < 0.87:
            handed.append(snapshot(ts, "put", "Queue#1"))
        elif op < 0.94 and handed:
            acquire_clock(ts, handed.pop(rng.randrange(len(handed))), "get", "Queue#1")
        elif op < 0.97:
            world.replace(rng.randrange(len(world.threads)), ts)
        else:
            ts.tick()


def test_a_dead_releasers_slot_taken_by_a_thread_that_never_saw_it_still_joins():
    world = World(random.Random(0), 3)
    a, b, c = world.threads
    lock = SyncVar("Lock#1")
    acquire_clock(a, snapshot(c, "put", "Queue#1"), "get", "Queue#1")
    release_store(lock, a)  # carries what a learnt from c
    # a ends; a new thread takes its slot, started by b, which never saw a's end.
    world.replace(0, b)
    acquire_clock(b, snapshot(world.threads[0], "put", "Queue#2"), "get", "Queue#2")
    assert b.vc[0] > lock.state[0][0]  # b knows slot 0 past a's release...
    assert b.vc[2] < lock.state[0][2]  # ...but not what the release carries
    acquire_and_compare(lock, b)  # so the clocks are joined


def test_a_known_epoch_skips_the_join_of_a_live_releaser():
    world = World(random.Random(0), 3)
    a, b, _ = world.threads
    lock = SyncVar("Lock#1")
    release_store(lock, a)
    handed = snapshot(a, "put", "Queue#1")  # a later epoch of a, containing the release
    acquire_clock(b, handed, "get", "Queue#1")
    before = list(b.vc)
    acquire(lock, b)
    assert b.vc == before
