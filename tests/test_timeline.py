"""The timeline of a race: each thread's sync events between the two accesses."""

import threading
import time

import pytest

import racewatch
from racewatch import session
from racewatch.config import Options
from racewatch.reports import html
from racewatch.reports.model import Frame, SyncEvent, Timeline
from racewatch.runtime import stacks
from racewatch.runtime.races import EVENTS_PER_LANE
from racewatch.runtime.shadow import REGISTRY
from racewatch.runtime.threads import EVENTS_KEPT


def line_of(text: str) -> int:
    with open(__file__) as f:
        return next(n for n, line in enumerate(f, 1) if text in line)


@pytest.fixture
def detector():
    active = session.start(Options(), instrument=False, print_races=False)
    try:
        yield active
    finally:
        session.stop()


def test_a_busy_lane_is_folded_and_elided(detector):
    racy = racewatch.track({})
    private = threading.Lock()
    flag = []  # a plain list: racewatch sees no edge through it

    def busy_writer():
        racy["k"] = 1
        for _ in range(100):
            with private:
                pass
        flag.append(True)

    def late_reader():
        while not flag:
            time.sleep(0.001)
        racy.get("k")

    threads = [threading.Thread(target=busy_writer), threading.Thread(target=late_reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (race,) = detector.report().races
    assert race.previous.write and not race.current.write
    tl = race.timeline
    events = tl.previous_events
    assert len(events) <= EVENTS_PER_LANE
    assert tl.previous_elided > 0
    # 100 acquires and releases happened; a thread keeps its last EVENTS_KEPT, and says so.
    assert sum(e.count for e in events) + tl.previous_elided == EVENTS_KEPT < 200
    assert tl.truncated
    assert {(e.kind, e.direction) for e in events} == {("acquire", "acquire"),
                                                      ("release", "release")}
    assert all(e.what.startswith("Lock#") for e in events)
    assert tl.current_events and tl.current_events[0].kind == "begin"
    assert f"… {tl.previous_elided} more events" in html.render(detector.report())


def test_identical_events_in_a_row_are_folded(detector):
    racy = racewatch.track({})
    ev = threading.Event()
    flag = []

    def writer():
        racy["k"] = 1
        for _ in range(5):
            ev.set()  # the same release, five times in a row
        flag.append(True)

    def reader():
        while not flag:
            time.sleep(0.001)
        racy.get("k")

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (race,) = detector.report().races
    (folded,) = race.timeline.previous_events
    assert (folded.kind, folded.direction, folded.count) == ("set", "release", 5)
    # Where the program set it, not the patch that saw it.
    assert (folded.frame.file, folded.frame.line) == (__file__, line_of("ev.set()  # the same"))


def test_a_thread_keeps_its_latest_events_oldest_first(detector):
    lock = threading.Lock()
    info = REGISTRY.current().info
    for _ in range(EVENTS_KEPT):
        with lock:  # the line of the events
            pass
    events = list(info.events)
    assert len(events) == len(info.events) == info.events.maxlen == EVENTS_KEPT
    assert [e[0] for e in events] == sorted(e[0] for e in events)
    assert [(kind, direction) for _, kind, _, direction, _ in events[-2:]] == [
        ("acquire", "acquire"), ("release", "release")]
    assert {label for _, _, label, _, _ in events} == {f"Lock#{lock._info.serial}"}
    # Each event's stack is the one frame capture(1) gives where the program took or let go
    # of the lock, equal from one time round the loop to the next.
    where = {e[4] for e in events}
    assert len(where) == 2
    assert {tuple(stacks.resolve(stack)) for stack in where} == {
        (Frame(__file__, line_of("with lock:  # the line of"),
               "test_a_thread_keeps_its_latest_events_oldest_first"),)}


def test_timeline_round_trips_through_json():
    tl = Timeline(0.1, 0.2, [SyncEvent(0.15, "release", "Lock#1", Frame("a.py", 3, "f"),
                                       "release", 3)], [], False, 7, 0)
    assert Timeline.from_json(tl.to_json()) == tl
