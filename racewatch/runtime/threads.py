"""Threads as the detector sees them: logical ids, clock slots, and per-thread state.

Every OS thread that touches the detector gets a ``ThreadState`` held in a thread-local,
so a thread ident reused by the OS can never be mistaken for the thread that had it: the
new thread finds no state and gets a fresh logical id.

A thread's vector-clock *slot* is not its logical id.  Slots of finished threads are
reused so that clocks stay short when a program churns through thousands of threads.
A reused slot continues from the dead thread's last clock value, so the dead thread's
accesses stay ordered before everything the new thread does.  That is exact when every
live thread had already seen the dead thread's end (the usual case: the thread was
joined).  When a program keeps more than ``MAX_UNORDERED_DEAD_SLOTS`` finished threads
that no live thread synchronized with, the oldest slot is reused anyway; a race with
that old thread's accesses can then be missed (never invented).  The summary counts it.
"""

from __future__ import annotations

import _thread
import collections
import itertools
import weakref

from .clock import VectorClock, entry
from .core import COMPILED
from .stacks import EMPTY_STACK, Stack

MAX_UNORDERED_DEAD_SLOTS = 64
EVENTS_KEPT = 128  # sync events remembered per thread, for the timeline of a race
ATTR_SEEN = 64  # attributes a thread remembers accessing in its epoch (objects.py)

# The compiled core finds the current thread's state in a C thread-local, without a Python
# call: the registry hands it each state it installs for the calling thread, and takes it
# back when it lets go (threadstate.c).
_hand_over = COMPILED.set_current if COMPILED is not None else None
_let_go = COMPILED.drop_current if COMPILED is not None else None


def _new_events(maxlen: int):
    """A thread's ring of recent sync events: appended to by ``sync.note``, read by the
    timeline of a race (races.py) as tuples, oldest first."""
    return collections.deque(maxlen=maxlen)


if COMPILED is not None:
    # The compiled core notes events as C fields, with the innermost frame as its code and
    # offset, and builds the tuples only when a report reads them (events.c).
    _new_events = COMPILED.EventRing  # noqa: F811


class ThreadInfo:
    """What a report says about a thread; records keep it after the thread is gone."""

    __slots__ = ("tid", "name", "ident", "created_at", "parent_tid", "events", "_thread_ref",
                 "__weakref__")

    def __init__(self, tid: int, name: str, ident: int, created_at: Stack,
                 parent_tid: int | None, thread_obj=None):
        self.tid = tid
        self.name = name
        self.ident = ident
        self.created_at = created_at
        self.parent_tid = parent_tid
        # (monotonic ns, kind, label, direction, stack of one frame), the newest last
        self.events = _new_events(EVENTS_KEPT)
        self._thread_ref = weakref.ref(thread_obj) if thread_obj is not None else None

    def current_name(self) -> str:
        """The thread's name now (a program may rename a thread after starting it)."""
        ref = self._thread_ref
        thread = ref() if ref is not None else None
        if thread is not None:
            try:
                self.name = thread.name
            except Exception:  # a Thread subclass with a broken name property
                pass
        return self.name


class ThreadState:
    """The detector's per-thread state; only its own thread changes it."""

    __slots__ = (
        "info",       # ThreadInfo
        "slot",       # index of this thread's entry in vector clocks
        "clock",      # == vc[slot], this thread's current epoch
        "vc",         # VectorClock, owned by this thread
        "held",       # tuple of LockInfo, the tracked locks this thread holds
        "busy",       # > 0 while racewatch itself runs in this thread (reports, repr)
        "ignoring",   # > 0 inside racewatch.ignore(): accesses only, never sync edges
        "internal",   # > 0 while a primitive builds its internal locks (see patches)
        "spawn_clock",  # what threads started as internals inherit (a pool's workers)
        "last",       # the last Access record made, reused while nothing changed
        "accesses",   # tracked accesses made by this thread
        "attr_seen",  # attributes accessed in the current epoch (objects.py)
        "dead",
        "_sentinel_ref",
        "__weakref__",
    )

    def __init__(self, info: ThreadInfo, slot: int, vc: VectorClock):
        self.info = info
        self.slot = slot
        self.vc = vc
        self.clock = vc[slot]
        self.held = ()
        self.busy = 0
        self.ignoring = 0
        self.internal = 0
        self.spawn_clock = None
        self.last = None
        self.accesses = 0
        self.attr_seen = [None] * ATTR_SEEN
        self.dead = False
        self._sentinel_ref = None

    def tick(self) -> None:
        """Start a new epoch (after a release: later accesses are not ordered by it)."""
        clock = self.clock + 1
        self.clock = clock
        self.vc[self.slot] = clock


class _Sentinel:
    """Lives in a thread's thread-local storage; its death tells us the thread ended."""

    __slots__ = ("__weakref__",)


class ThreadRegistry:
    """Hands out logical ids and clock slots, and knows which threads are alive."""

    def __init__(self):
        self._lock = _thread.allocate_lock()
        self._tids = itertools.count()
        self._slot_last: list[int] = []     # last clock value used on each slot
        self._free = collections.deque()    # slots of finished threads, oldest first
        self._live: dict[int, ThreadState] = {}
        self.threads_seen = 0
        self.finished_accesses = 0          # accesses made by threads that have ended
        self.recycled_unordered = 0         # slots reused before every thread saw their end
        self._tls = _thread._local()
        # The one live thread when every finished thread is ordered before it (see
        # ``update_solo``), else None.  False in ``solo_allowed`` once a thread appeared
        # that nobody announced: its start could not invalidate ``solo`` in time.
        self.solo: ThreadState | None = None
        self.solo_allowed = True
        self._starting = 0  # threads announced by ``forking`` that have not begun yet
        self.on_threads = None  # see _threads_began

    # -- the current thread -------------------------------------------------------------

    def current(self) -> ThreadState:
        """The calling thread's state, made on first use for a thread nobody announced."""
        try:
            return self._tls.state
        except AttributeError:
            return self.adopt()

    def adopt(self, name: str | None = None, thread_obj=None) -> ThreadState:
        """Give the calling thread a root state: nothing is known to happen before it."""
        ident = _thread.get_ident()
        if self._live:
            self.solo_allowed = False
            self._threads_began()
        if name is None:
            name = _thread_name(ident)
        return self.begin(name, ident, EMPTY_STACK, None, None, thread_obj)

    def begin(self, name: str, ident: int, created_at: Stack, parent_tid: int | None,
              inherit: VectorClock | None, thread_obj=None) -> ThreadState:
        """Install a new state for the calling thread, starting from clock ``inherit``."""
        with self._lock:
            tid = next(self._tids)
            slot = self._allocate_slot()
            vc = list(inherit) if inherit is not None else []
            if len(vc) <= slot:
                vc.extend([0] * (slot + 1 - len(vc)))
            vc[slot] = max(vc[slot], self._slot_last[slot]) + 1
            info = ThreadInfo(tid, name, ident, created_at, parent_tid, thread_obj)
            state = ThreadState(info, slot, vc)
            self._live[slot] = state
            self.threads_seen += 1
            self.solo = None
            if parent_tid is not None and self._starting:
                self._starting -= 1
        old = getattr(self._tls, "state", None)
        if old is not None and old is not state:
            self.retire(old)
        sentinel = _Sentinel()
        state._sentinel_ref = weakref.ref(sentinel, lambda _ref, s=state: self._ended(s))
        self._tls.sentinel = sentinel
        self._tls.state = state
        if _hand_over is not None:
            _hand_over(state)
        return state

    def _ended(self, state: ThreadState) -> None:
        """The thread-local of ``state``'s thread was cleared: that thread has ended."""
        self.retire(state)
        if _let_go is not None:
            _let_go(state)

    def _allocate_slot(self) -> int:
        free = self._free
        if free:
            slot = free[0]
            final = self._slot_last[slot]
            ordered = all(entry(ts.vc, slot) >= final for ts in self._live.values())
            if ordered or len(free) > MAX_UNORDERED_DEAD_SLOTS:
                free.popleft()
                if not ordered:
                    self.recycled_unordered += 1
                return slot
        self._slot_last.append(0)
        return len(self._slot_last) - 1

    def retire(self, state: ThreadState) -> None:
        """The thread of ``state`` has ended; its slot may be reused."""
        with self._lock:
            # A state from before a fork (reset_after_fork) has nothing left to give back.
            if state.dead or self._live.get(state.slot) is not state:
                state.dead = True
                return
            state.dead = True
            self.finished_accesses += state.accesses
            if self._live.get(state.slot) is state:
                del self._live[state.slot]
            self._slot_last[state.slot] = state.clock
            self._free.append(state.slot)
        self.update_solo()

    def forking(self) -> None:
        """A live thread is about to start another: no thread is alone any more."""
        with self._lock:
            self._starting += 1
            self.solo = None
        self._threads_began()

    def _threads_began(self) -> None:
        """A second thread is beginning: ``on_threads`` is called, once (objects.py hooks
        the classes then: while one thread runs alone, nothing needs watching)."""
        callback = self.on_threads
        if callback is not None:
            self.on_threads = None
            callback()

    def fork_failed(self) -> None:
        """The thread announced by ``forking`` could not be started."""
        with self._lock:
            if self._starting:
                self._starting -= 1

    def update_solo(self) -> None:
        """Set ``solo`` if one thread is alive and every finished thread is ordered before it.

        Such a thread's accesses need no record: nothing can race with them now, and every
        thread started later inherits its clock.  Called when a thread ends or is joined.
        """
        with self._lock:
            solo = None
            if self.solo_allowed and not self._starting and len(self._live) == 1:
                (ts,) = self._live.values()
                vc = ts.vc
                last = self._slot_last
                if all(last[s] <= entry(vc, s) for s in range(len(last)) if s != ts.slot):
                    solo = ts
            self.solo = solo

    def reset_after_fork(self) -> None:
        """In a forked child: only the forking thread exists, and it starts afresh."""
        self._lock._at_fork_reinit()
        self._slot_last = []
        self._free.clear()
        self._live = {}
        self.threads_seen = 0
        self.finished_accesses = 0
        self.recycled_unordered = 0
        self.solo = None
        self.solo_allowed = True
        self._starting = 0
        self._tls.__dict__.pop("state", None)
        self._tls.__dict__.pop("sentinel", None)
        if _hand_over is not None:
            _hand_over(None)

    def forget_current(self) -> None:
        """Drop the calling thread's state (used when the detector stops)."""
        state = getattr(self._tls, "state", None)
        if state is not None:
            self.retire(state)
            del self._tls.state
            if _hand_over is not None:
                _hand_over(None)

    # -- all threads ----------------------------------------------------------------------

    def live(self) -> list[ThreadState]:
        with self._lock:
            return list(self._live.values())

    def min_clock(self) -> VectorClock:
        """Pointwise minimum of the live threads' clocks.

        An access whose epoch this clock covers is ordered before every live thread, and so
        before every thread that will ever start (each inherits a live thread's clock).
        Clocks only grow, so a stale read of another thread's clock only makes this smaller,
        which is the safe direction.
        """
        states = self.live()
        if not states:
            return []
        n = len(self._slot_last)
        result = [0] * n
        first = True
        for ts in states:
            vc = ts.vc
            if first:
                for i in range(n):
                    result[i] = entry(vc, i)
                first = False
            else:
                for i in range(n):
                    v = entry(vc, i)
                    if v < result[i]:
                        result[i] = v
        return result

    def accesses(self) -> int:
        """Tracked accesses made so far by every thread."""
        with self._lock:
            return self.finished_accesses + sum(ts.accesses for ts in self._live.values())

    def slot_count(self) -> int:
        return len(self._slot_last)


def _thread_name(ident: int) -> str:
    """The name threading knows for ``ident``, without creating a dummy Thread object."""
    import threading

    thread = threading._active.get(ident)
    if thread is not None:
        return thread.name
    if ident == threading.main_thread().ident:
        return "MainThread"
    return f"Thread-{ident}"


if COMPILED is not None:
    # The compiled core's ThreadState has the same attributes, as C fields.
    ThreadState = COMPILED.ThreadState
    # REGISTRY.solo, kept where every access reads it without a Python call.
    ThreadRegistry.solo = COMPILED.SOLO
