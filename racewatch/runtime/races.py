"""From two unordered accesses to a report: resolve, de-duplicate, count, hand on.

The same pair of source lines racing again is one race with a count.  Resolving stacks
and reprs is done once per distinct race; a repeat costs two line look-ups.
"""

from __future__ import annotations

from collections.abc import Callable

from ..reports import patterns
from ..reports.model import (
    AccessInfo,
    Container,
    LockRef,
    Race,
    SyncEvent,
    ThreadRef,
    Timeline,
    location_words,
)
from . import forks, stacks, unset
from .core import COMPILED
from .keys import describe
from .settings import SETTINGS
from .shadow import REGISTRY, Access, Conflict
from .threads import ThreadInfo


def location_value(field_name: str, key):
    """A location as its own JSON field holds it (see ``model.Race.value``)."""
    if field_name == "index":
        return key if type(key) is int else None
    if field_name in ("attribute", "name"):
        return key if type(key) is str else describe(key)
    if field_name == "element":
        return describe(key)
    return None


def kind_of(previous: Access, current: Access) -> str:
    return f"{'write' if previous.write else 'read'}/{'write' if current.write else 'read'}"


def thread_ref(info: ThreadInfo) -> ThreadRef:
    return ThreadRef(info.current_name(), info.tid, stacks.resolve(info.created_at))


def access_info(rec: Access, key=None, has_key: bool = False) -> AccessInfo:
    """``has_key``: an access to the keys location that inserted or deleted ``key`` (an
    update of the set of keys, SPEC section 2)."""
    locks = [LockRef(f"{lk.kind}#{lk.serial}", stacks.resolve(lk.created_at)) for lk in rec.locks]
    return AccessInfo(rec.op, rec.write, thread_ref(rec.thread), locks, stacks.resolve(rec.stack),
                      describe(key) if has_key else None, update=has_key)


def _seconds(ns: int) -> float:
    return round((ns - SETTINGS.started_ns) / 1e9, 6)


EVENTS_PER_LANE = 16  # Timeline.ELIDED_AFTER after the earlier access, the rest before the later


def _events_between(info: ThreadInfo, start: int, end: int
                    ) -> tuple[list[SyncEvent], int, bool]:
    """The thread's sync events in [start, end], identical neighbours folded, the middle
    of a long run elided; the number elided; whether older events were no longer kept."""
    kept = list(info.events)  # one C-level copy: safe while the thread appends
    lost = len(kept) == info.events.maxlen and bool(kept) and kept[0][0] > start
    events: list[SyncEvent] = []
    previous = None
    for when, kind, label, direction, stack in kept:
        if not start <= when <= end:
            continue
        key = (kind, label, direction, stack)
        if key == previous:
            events[-1].count += 1
            continue
        previous = key
        frames = stacks.resolve(stack)
        events.append(SyncEvent(_seconds(when), kind, label, frames[0] if frames else None,
                                direction))
    elided = 0
    if len(events) > EVENTS_PER_LANE:
        head = Timeline.ELIDED_AFTER
        tail = EVENTS_PER_LANE - head
        elided = sum(e.count for e in events[head:-tail])
        events = events[:head] + events[-tail:]
    return events, elided, lost


def timeline(previous: Access, current: Access) -> Timeline:
    """What each thread did between the two accesses (see ``model.Timeline``)."""
    start, end = previous.time, current.time
    before, elided_before, lost_before = _events_between(previous.thread, start, end)
    after, elided_after, lost_after = _events_between(current.thread, start, end)
    return Timeline(_seconds(start), _seconds(end), before, after, lost_before or lost_after,
                    elided_before, elided_after)


Listener = Callable[[Race, bool], None]

# How many later occurrences of one race may refine its pattern (each costs resolving its
# stacks): enough for the few shapes one pair of lines can show.
REFINEMENTS = 4


class RaceTable:
    """Every distinct race of the run, with its count, and who wants to hear of them.

    Reporting is racewatch's problem, never the program's: ``on_conflict`` runs inside the
    program's own dict operation, and no Exception leaves it.  A conflict that finds no
    room left on the stack (the program is near the recursion limit) waits in ``pending``
    and is handled at the next race or when the report is made; so does a listener's
    notice.  Anything else that fails is counted in ``failures`` and said at exit.
    """

    def __init__(self):
        # Re-entrant: a listener (halt_on_error) may ask for the report while it runs.
        self._lock = forks.lock()
        self._races: dict[tuple, Race] = {}
        self._suppressed: set[tuple] = set()
        self.occurrences = 0
        self.suppressed = 0  # occurrences; len(self._suppressed): distinct races
        self.listeners: list[Listener] = []
        # Decides whether a race is suppressed (see racewatch.suppressions); None: keep all.
        self.suppress: Callable[[Race, Conflict], bool] | None = None
        self.pending: list[Conflict] = []
        self._unsent: list[tuple[Listener, Race, bool]] = []
        self.failures = 0
        self.first_failure: str | None = None
        # What the engine calls (SETTINGS.sink): with the compiled core, a C callable that
        # needs no frame of its own (see racewatch/_core/sink.c).
        self.sink = COMPILED.Sink(self.on_conflict, self.pending) if COMPILED is not None \
            else self.on_conflict
        self._refinements: dict[tuple, int] = {}

    def on_conflict(self, conflict: Conflict) -> None:
        """The handler of each pair of unordered accesses the shadow finds."""
        if forks.settle():
            return  # found in a forked child before its reset: its parent's state
        try:
            if self.pending or self._unsent:
                self.drain()
            self._take(conflict)
        except RecursionError:
            self.pending.append(conflict)
        except Exception as exc:  # noqa: BLE001 -- never into the program's access
            self._failed(exc)

    def _take(self, conflict: Conflict) -> None:
        """Count ``conflict`` or make it a new race, and tell the listeners.  Raises
        RecursionError only before anything changed."""
        prev, cur = conflict.previous, conflict.current
        a = stacks.innermost_line(prev.stack)
        b = stacks.innermost_line(cur.stack)
        signature = tuple(sorted((a or ("?", 0), b or ("?", 0))))
        with self._lock:
            race = self._races.get(signature)
            if race is None:
                if signature in self._suppressed:
                    self.suppressed += 1
                    return
                built = self._build(conflict)
                if self.suppress is not None and self.suppress(built, conflict):
                    self._suppressed.add(signature)
                    self.suppressed += 1
                    return
                # A signal handler may have found the same race while this one was built.
                race = self._races.setdefault(signature, built)
            new = race.count == 0
            if not new:
                self._refine(race, signature, conflict)
            race.count += 1
            self.occurrences += 1
            for listener in self.listeners:
                self._tell(listener, race, new)

    def _tell(self, listener: Listener, race: Race, new: bool) -> bool:
        try:
            listener(race, new)
        except RecursionError:
            self._unsent.append((listener, race, new))
            return False
        except Exception as exc:  # noqa: BLE001 -- a listener's failure is counted, once
            self._failed(exc)
        return True

    def drain(self) -> None:
        """Handle the conflicts and notices that could not be handled when found."""
        pending, unsent = self.pending, self._unsent
        with self._lock:
            while pending:
                conflict = pending.pop(0)
                try:
                    self._take(conflict)
                except RecursionError:
                    pending.insert(0, conflict)
                    return
            while unsent:
                if not self._tell(*unsent.pop(0)):
                    unsent.insert(0, unsent.pop())  # back at the front, for the next time
                    return

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        if self.first_failure is None:
            self.first_failure = f"{type(exc).__name__}: {exc}"

    def _build(self, c: Conflict, with_timeline: bool = True) -> Race:
        sh = c.shadow
        one, whole, field_name = location_words(sh.kind)
        race = Race(
            kind=kind_of(c.previous, c.current),
            container=Container(sh.kind, stacks.resolve(sh.created_at), sh.name),
            key=None if c.on_keys else describe(c.key),
            current=access_info(c.current, c.current_key,
                                c.on_keys and c.current.write and c.current_key is not None),
            previous=access_info(c.previous, c.previous_key,
                                 c.on_keys and c.previous.write and c.previous_key is not None),
            location=whole if c.on_keys else one,
            timeline=timeline(c.previous, c.current) if with_timeline else None,
            value=None if c.on_keys else location_value(field_name, c.key),
            count=0,
        )
        prior = c.current_prior
        race.pattern = patterns.classify(
            race, access_info(prior) if prior is not None else None,
            not c.on_keys and sh.kind in ("object", "class", "module")
            and unset.seen_unset(sh, c.key))
        return race

    def _refine(self, race: Race, signature: tuple, c: Conflict) -> None:
        """A later occurrence of a race may show what the first could not: the current
        thread's own read before its write (the other side of a read-modify-write whose
        first occurrence was only its read).  The more specific pattern it shows replaces
        the race's: the reports made at the end carry it (the text printed when the race
        was found cannot)."""
        if c.current_prior is None or race.pattern is None:
            return
        done = self._refinements.get(signature, 0)
        if done >= REFINEMENTS or patterns.RANK[race.pattern.id] == max(patterns.RANK.values()):
            return
        self._refinements[signature] = done + 1
        found = self._build(c, with_timeline=False).pattern
        if found is not None and patterns.RANK[found.id] > patterns.RANK[race.pattern.id]:
            race.pattern = found

    def races(self) -> list[Race]:
        if self.pending or self._unsent:
            ts = REGISTRY.current()
            ts.busy += 1  # racewatch's own work, outside the engine: not the program's accesses
            try:
                self.drain()
            finally:
                ts.busy -= 1
        with self._lock:
            return list(self._races.values())

    @property
    def suppressed_races(self) -> int:
        """Distinct races (pairs of source lines) that a suppression hid."""
        return len(self._suppressed)

    def reset_after_fork(self) -> None:
        """A forked child starts with no race: they are its parent's to report."""
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._races.clear()
            self._suppressed.clear()
            self.pending.clear()
            self._unsent.clear()
            self._refinements.clear()
            self.occurrences = 0
            self.suppressed = 0
