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
from collections.abc import Callable

from . import forks, late_free
from .clock import VectorClock, entry, join_into
from .core import COMPILED
from .stacks import EMPTY_STACK, Stack

MAX_UNORDERED_DEAD_SLOTS = 64
EVENTS_KEPT = 128  # sync events remembered per thread, for the timeline of a race
ATTR_SEEN = 64  # attributes a thread remembers accessing in its epoch (objects.py)
# Access records a thread keeps for reuse (shadow._make_access): one per access site of a
# loop's body, so that its first accesses to many keys in one epoch share a record per site.
# The oldest goes first, so a body with more sites than this reuses none: a method that
# moves an object through its attributes (read x, read vx, write x, ...) has a dozen.
RECENT = 16

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


def _per_thread_dict() -> Callable[[], dict]:
    """A function giving the calling thread its own dict, for one registry.

    With the compiled core, the dict lives in the thread state's dict (``thread_dict`` in
    threadstate.c says why not in a ``threading.local``); CPython clears it when the thread
    ends, as it clears a thread-local, and the sentinel in it dies then.  The key is one
    object per registry."""
    if COMPILED is not None:
        key = object()
        thread_dict = COMPILED.thread_dict
        return lambda: thread_dict(key)
    local = _thread._local()
    return lambda: local.__dict__


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


def _no_replay(ts) -> None:
    ts.deferred = None


# objects.replay_deferred once objects.py is imported (it imports this module).
replay_deferred: Callable[[ThreadState], None] = _no_replay


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
        "recent",     # the Access records made lately (RECENT), reused while nothing changed
        "last_read",  # (shadow serial, key, Access): its last read recorded
                      # (shadow._remember_read)
        "accesses",   # tracked accesses made by this thread
        "attr_seen",  # attributes accessed in the current epoch (objects.py)
        "pending",    # the epoch was published by a lock's release: ``settle`` ends it
        "pending_sv",  # that lock's SyncVar (sync.acquire_lock)
        "deferred",   # a read of that lock while pending (objects.read_pending_lock)
        "replay",     # (stack, held, time) while the deferred read is recorded
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
        self.recent = []
        self.last_read = None
        self.accesses = 0
        self.attr_seen = [None] * ATTR_SEEN
        self.pending = False
        self.pending_sv = None
        self.deferred = None
        self.replay = None
        self.dead = False
        self._sentinel_ref = None

    def tick(self) -> None:
        """Start a new epoch (after a release: later accesses are not ordered by it)."""
        clock = self.clock + 1
        self.clock = clock
        self.vc[self.slot] = clock

    def settle(self) -> None:
        """Start the epoch a lock's release ended, if it has not started yet (sync.py)."""
        if self.pending:
            self.pending = False
            self.pending_sv = None
            self.tick()
            if self.deferred is not None:
                replay_deferred(self)


class _Sentinel:
    """Lives in a thread's thread-local storage; its death tells us the thread ended."""

    __slots__ = ("__weakref__",)


class ThreadRegistry:
    """Hands out logical ids and clock slots, and knows which threads are alive."""

    def __init__(self):
        # Re-entrant: a signal handler, a finalizer or a GC callback may run between two
        # bytecodes of a method below and start, join or end a thread itself.  Every
        # method calls forks.settle() before taking it (see forks.py).
        self._lock = forks.lock()
        self._tids = itertools.count()
        self._slot_last: list[int] = []     # last clock value used on each slot
        self._free = collections.deque()    # slots of finished threads, oldest first
        self._live: dict[int, ThreadState] = {}
        self.threads_seen = 0
        self.finished_accesses = 0          # accesses made by threads that have ended
        self.recycled_unordered = 0         # slots reused before every thread saw their end
        self._mine = _per_thread_dict()   # the calling thread's own dict: state, sentinel
        # The one live thread when every finished thread is ordered before it (see
        # ``update_solo``), else None.  False in ``solo_allowed`` once a thread appeared
        # that nobody announced: its start could not invalidate ``solo`` in time.
        self.solo: ThreadState | None = None
        self.solo_allowed = True
        self._starting = 0  # threads announced by ``forking`` that have not begun yet
        self.on_threads = None  # see _threads_began
        self.begin_announced: Callable[[], ThreadState | None] | None = None
        self._by_ident: dict[int, ThreadState] = {}  # OS thread ident -> its state, until
        #                                              its thread-local is gone (_ended)
        self._changes = 0   # bumped by every start, so that update_solo sees a stale answer
        self._unordered_hint: tuple[ThreadState, int] | None = None  # _first_unordered's

    # -- the current thread -------------------------------------------------------------

    def current(self) -> ThreadState:
        """The calling thread's state, made on first use for a thread nobody announced."""
        state = self._mine().get("state")
        return state if state is not None else self.adopt()

    def current_if_any(self) -> ThreadState | None:
        """The calling thread's state if it has one yet (none is made)."""
        return self._mine().get("state")

    def adopt(self, name: str | None = None, thread_obj=None) -> ThreadState:
        """Give the calling thread a root state: nothing is known to happen before it.

        Unless a watched thread started it and it has not begun yet: a garbage collection
        (its ``gc.callbacks``, a ``__del__``) runs in whichever thread allocates, so it can
        run in a new thread before the patch that begins the thread (its bootstrap) or in
        the middle of that.  ``begin_announced`` (set by the thread patches) finds such a
        thread's start and begins it from there.  A collection can also run in a thread
        that is ending, after its thread-local was cleared and before ``_ended`` retired
        its state: it gets that state.
        """
        ending = self._by_ident.get(_thread.get_ident())
        if ending is not None:
            return ending
        if self._starting and self.begin_announced is not None:
            state = self.begin_announced()
            if state is not None:
                return state
        ident = _thread.get_ident()
        if self._live:
            self.solo_allowed = False
            self._threads_began()
        if name is None:
            name = _thread_name(ident)
        return self.begin(name, ident, EMPTY_STACK, None, None, thread_obj)

    def begin(self, name: str, ident: int, created_at: Stack, parent_tid: int | None,
              inherit: VectorClock | None, thread_obj=None) -> ThreadState:
        """Install a new state for the calling thread, starting from clock ``inherit``.

        Allocations below may run a garbage collection, and its callbacks may need a state
        for this thread before this one is installed: the state a nested call installed
        meanwhile is joined into this one (it is the same OS thread) and retired.
        """
        forks.settle()
        sentinel = _Sentinel()
        holder: list[ThreadState | None] = [None]
        sentinel_ref = weakref.ref(
            sentinel, lambda _ref, h=holder: self._ended(h[0]) if h[0] is not None else None)
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
            self._by_ident[ident] = state
            self.threads_seen += 1
            self.solo = None
            self._changes += 1
        state._sentinel_ref = sentinel_ref
        holder[0] = state
        mine = self._mine()  # its first use in a thread allocates
        mine["sentinel"] = sentinel
        old = mine.get("state")
        mine["state"] = state
        if _hand_over is not None:
            _hand_over(state)
        else:
            late_free.thread_started()
        if old is not None and old is not state:
            join_into(state.vc, old.vc)
            self.retire(old)
        return state

    def started(self) -> None:
        """A thread announced by ``forking`` has begun (called once per start)."""
        forks.settle()
        with self._lock:
            if self._starting:
                self._starting -= 1

    def _ended(self, state: ThreadState) -> None:
        """The own dict of ``state``'s thread was cleared: that thread has ended.

        Until this returns, code that runs in the ending thread (a collection run by the
        allocations here) still finds its state through ``_by_ident``.  A thread that ended
        through its bootstrap retired already (``dead``, set under the lock, is never unset).
        """
        if not state.dead:
            self.retire(state)
        if _let_go is not None:
            _let_go(state)
        ident = state.info.ident
        if self._by_ident.get(ident) is state:
            del self._by_ident[ident]

    def _allocate_slot(self) -> int:
        free = self._free
        if free:
            slot = free[0]
            final = self._slot_last[slot]
            # (clock.entry, inline: a thread that starts while hundreds live asks each)
            ordered = all((ts.vc[slot] if slot < len(ts.vc) else 0) >= final
                          for ts in self._live.values())
            if ordered or len(free) > MAX_UNORDERED_DEAD_SLOTS:
                free.popleft()
                if not ordered:
                    self.recycled_unordered += 1
                return slot
        self._slot_last.append(0)
        return len(self._slot_last) - 1

    def retire(self, state: ThreadState) -> None:
        """The thread of ``state`` has ended; its slot may be reused."""
        forks.settle()
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
            hint = self._unordered_hint
            if hint is not None and state.slot < hint[1]:
                self._unordered_hint = (hint[0], state.slot)   # a slot to look at again
            self._free.append(state.slot)
            # ``solo`` is None while two threads live (begin and forking set it so), as
            # this one did until now.  It can change only if one thread is left and that
            # one knows this thread's end already; else update_solo would find this slot
            # (or one before it) unordered, and a program whose threads end before they
            # are joined would have it look at every end.
            vc = next(iter(self._live.values())).vc if len(self._live) == 1 else None
            seen = vc is not None and (vc[state.slot] if state.slot < len(vc) else 0) >= state.clock
        if seen:
            self.update_solo()

    def forking(self) -> None:
        """A live thread is about to start another: no thread is alone any more."""
        forks.settle()
        with self._lock:
            self._starting += 1
            self.solo = None
            self._changes += 1
        self._threads_began()

    def _threads_began(self) -> None:
        """A second thread is beginning: ``on_threads`` is called, once (objects.py hooks
        the classes then: while one thread runs alone, nothing needs watching)."""
        callback = self.on_threads
        if callback is not None:
            self.on_threads = None
            callback()

    def starting(self) -> bool:
        """True while a thread announced by ``forking`` has not begun."""
        return self._starting > 0

    def fork_failed(self) -> None:
        """The thread announced by ``forking`` could not be started."""
        self.started()

    def update_solo(self) -> None:
        """Set ``solo`` if one thread is alive and every finished thread is ordered before it.

        Such a thread's accesses need no record: nothing can race with them now, and every
        thread started later inherits its clock.  Called when a thread ends or is joined.
        """
        forks.settle()
        with self._lock:
            changes = self._changes
            solo = None
            if self.solo_allowed and not self._starting and len(self._live) == 1:
                (ts,) = self._live.values()
                if self._first_unordered(ts) is None:
                    solo = ts
            # A signal handler may have started a thread meanwhile (the lock is re-entrant):
            # then this answer is stale, and the None that forking() stored must stay.
            if changes == self._changes:
                self.solo = solo

    def _first_unordered(self, ts: ThreadState) -> int | None:
        """The first slot, other than ``ts``'s, whose last thread's end ``ts`` has not seen
        (its clock there is behind the slot's last), or None.  Called under the lock.

        Where it found one is remembered: asked again for the same thread, it starts there,
        as the slots before it were seen ordered and stay so (a thread's clock only grows),
        but for a slot whose last changed since (``retire`` moves the place back to it).
        A thread that joins a wave of threads in turn looks at each slot about once, not
        at every slot at each join.
        """
        vc = ts.vc
        last = self._slot_last
        n = len(vc)
        start = 0
        hint = self._unordered_hint
        if hint is not None and hint[0] is ts:
            start = hint[1]
        for s in range(start, len(last)):
            if s != ts.slot and last[s] > (vc[s] if s < n else 0):   # (clock.entry, inline)
                self._unordered_hint = (ts, s)
                return s
        self._unordered_hint = None
        return None

    def reset_after_fork(self) -> None:
        """In a forked child: only the forking thread exists, and it starts afresh."""
        self._slot_last = []
        self._unordered_hint = None
        self._free.clear()
        self._live = {}
        self.threads_seen = 0
        self.finished_accesses = 0
        self.recycled_unordered = 0
        self.solo = None
        self.solo_allowed = True
        self._starting = 0
        self._by_ident = {}
        mine = self._mine()
        mine.pop("state", None)
        mine.pop("sentinel", None)
        if _hand_over is not None:
            _hand_over(None)

    def forget_current(self) -> None:
        """Drop the calling thread's state (used when the detector stops)."""
        mine = self._mine()
        state = mine.get("state")
        if state is not None:
            self.retire(state)
            mine.pop("state", None)
            if self._by_ident.get(state.info.ident) is state:
                del self._by_ident[state.info.ident]
            if _hand_over is not None:
                _hand_over(None)

    # -- all threads ----------------------------------------------------------------------

    def live(self) -> list[ThreadState]:
        forks.settle()
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
        forks.settle()
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
