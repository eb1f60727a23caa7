"""Event, Semaphore, BoundedSemaphore and Barrier, with the edges their documentation promises.

* ``Event``: ``set()`` before a ``wait()`` or ``is_set()`` that sees it set.  Sets are
  joined, never reset by ``clear()``: that can only add edges, never invent a race.
* ``Semaphore``: a ``release()`` before the ``acquire()`` that takes the permit it
  returned.  Permits the semaphore started with carry no edge, and are handed out first,
  so ``Semaphore(2)`` does not order its two holders; returned permits go out oldest first.
* ``Barrier``: every party's arrival before every party's departure, round by round.

Instances made while another primitive builds its internals (an Event inside a Thread or
a Timer) keep no clock and add no edge.
"""

from __future__ import annotations

import _thread
import collections
import threading

from ..runtime import forks, stacks
from ..runtime.sync import (
    SyncTable,
    SyncVar,
    acquire,
    acquire_clock,
    new_label,
    release_join,
    snapshot,
)
from .context import acquire_after, as_internal, building_internals, release_before, thread_state

_sync = SyncTable(factory=lambda: None)   # Event or Barrier -> SyncVar
# A patched class -> the same class unpatched, as a subclass (see ``_plain_variant``).
_PLAIN: dict[type, type] = {}


def _init_with_clock(make_state):
    """A wrapt wrapper for ``__init__``: a user's instance gets state."""

    def wrapper(wrapped, instance, args, kwargs):
        user_made = not building_internals()
        result = as_internal(wrapped, instance, args, kwargs)
        if user_made:
            _sync.set(instance, make_state(instance))
        return result

    return wrapper


def _new_plain_if_internal(cls, *args, **kwargs):
    """``__new__`` of a patched class: one made as another primitive's internals is made
    an instance of the class's plain variant from the start.

    Not switched by assigning ``__class__`` after ``__init__``: without the GIL, CPython
    stops every thread for that assignment, and each Thread makes such an Event; a thread
    that forks while another one waits to stop the world leaves a lock held in the child,
    and the child hangs at its first such assignment or collection.
    """
    if building_internals():
        cls = forks.lookup(_PLAIN, cls, cls)   # every Thread makes one: no lock (forks.py)
    return object.__new__(cls)


def _plain_variant(cls: type, names) -> type:
    """A subclass of ``cls`` whose ``names`` are the methods ``cls`` has before patching.

    An internal Event or Semaphore (each Thread has an Event, each thread pool a
    Semaphore, each ``as_completed`` waiter an Event) adds no edge, but through the
    patched class it would still pay for a wrapper on every call; a pool pays it several
    times per task.  Switched to this variant it costs what it costs without racewatch,
    and stays an instance of ``cls`` with the same name and repr.
    """
    attrs = {name: getattr(cls, name) for name in names if hasattr(cls, name)}
    attrs.update(__slots__=(), __module__=cls.__module__, __qualname__=cls.__qualname__,
                 __doc__=cls.__doc__)
    return type(cls.__name__, (cls,), attrs)


# -- Semaphore ---------------------------------------------------------------------------


class Permits:
    """The permits of a semaphore: the initial ones (no edge), then returned ones (FIFO).

    The lock is re-entrant and made anew in a forked child (``forks.lock``): a signal
    handler may release the same semaphore between two bytecodes of a method below, and
    each method leaves the permits whole at every call it makes.
    """

    __slots__ = ("initial", "returned", "lock", "label")

    def __init__(self, initial: int, label: str):
        self.label = label
        self.initial = initial
        self.returned = collections.deque()
        self.lock = forks.lock()

    def take(self):
        with self.lock:
            if self.initial > 0:
                self.initial -= 1
                return None
            if self.returned:
                return self.returned.popleft()
            return None

    def give(self, clock, n: int) -> None:
        with self.lock:
            self.returned.extend([clock] * n)

    def take_back(self, clock, n: int) -> None:
        """Undo ``give`` after the real release refused (a BoundedSemaphore over its bound)."""
        with self.lock:
            for _ in range(n):
                try:
                    self.returned.remove(clock)
                except ValueError:
                    break


def _semaphore_state(instance) -> Permits:
    kind = "BoundedSemaphore" if isinstance(instance, threading.BoundedSemaphore) else "Semaphore"
    return Permits(max(0, getattr(instance, "_value", 0)), new_label(kind))


def _semaphore_acquire(wrapped, instance, args, kwargs):
    ok = wrapped(*args, **kwargs)
    if ok:
        permits = _sync.get(instance)
        ts = thread_state() if permits is not None else None
        if ts is not None:
            acquire_clock(ts, permits.take(), "acquire", permits.label)
    return ok


def _semaphore_release(wrapped, instance, args, kwargs):
    permits = _sync.get(instance)
    ts = thread_state() if permits is not None else None
    if ts is None:
        return wrapped(*args, **kwargs)
    n = _release_count(*args, **kwargs)
    clock = snapshot(ts, "release", permits.label)
    if isinstance(n, int) and n >= 1:
        permits.give(clock, n)
    try:
        return wrapped(*args, **kwargs)
    except BaseException:
        if isinstance(n, int) and n >= 1:
            permits.take_back(clock, n)
        raise


def _release_count(n=1):
    return n


# -- Barrier -----------------------------------------------------------------------------


class BarrierRounds:
    """A barrier's clocks, one per round: a round's arrivals reach that round's departures
    only.  A party that leaves first and arrives at the next round must not order the
    slower parties of the round before it.  ``_enter`` (an arrival joins the filling
    round) and ``_release`` (the last arrival closes it) run under the barrier's own lock,
    so a round is exactly what the barrier itself counts."""

    __slots__ = ("label", "current", "arrived")

    def __init__(self, label: str):
        self.label = label
        self.current = SyncVar(label)
        self.arrived: dict[int, SyncVar] = {}  # thread ident -> the round it arrived in


class _BarrierAction:
    """A barrier's ``action``: it runs in the last party to arrive, after every arrival of
    its round and before any departure, so it gets both edges."""

    __slots__ = ("action", "rounds")

    def __init__(self, action, rounds: BarrierRounds):
        self.action = action
        self.rounds = rounds

    def __call__(self):
        sv = self.rounds.current  # inside _release: still the closing round
        ts = thread_state()
        if ts is not None:
            acquire(sv, ts, "barrier action")
        try:
            return self.action()
        finally:
            if ts is not None:
                release_join(sv, ts, "barrier action")

    def __repr__(self):
        return repr(self.action)


def _barrier_state(instance) -> BarrierRounds:
    rounds = BarrierRounds(new_label("Barrier"))
    if getattr(instance, "_action", None) is not None:
        instance._action = _BarrierAction(instance._action, rounds)
    return rounds


def _barrier_enter(wrapped, instance, args, kwargs):
    result = wrapped(*args, **kwargs)  # raises if the barrier is broken
    rounds = _sync.get(instance)
    ts = thread_state() if rounds is not None else None
    if ts is not None:
        sv = rounds.current
        release_join(sv, ts, "arrive")
        rounds.arrived[_thread.get_ident()] = sv
    return result


def _barrier_release(wrapped, instance, args, kwargs):
    rounds = _sync.get(instance)
    try:
        return wrapped(*args, **kwargs)
    finally:
        if rounds is not None:
            rounds.current = SyncVar(rounds.label)  # the next round starts filling


def _barrier_wait(wrapped, instance, args, kwargs):
    rounds = _sync.get(instance)
    try:
        result = wrapped(*args, **kwargs)
    except BaseException:
        if rounds is not None:
            rounds.arrived.pop(_thread.get_ident(), None)
        raise
    if rounds is not None:
        sv = rounds.arrived.pop(_thread.get_ident(), None)
        ts = thread_state() if sv is not None else None
        if ts is not None:
            acquire(sv, ts, "depart")
    return result


def install(patcher) -> None:
    _PLAIN.clear()
    for cls, names in ((threading.Event, ("set", "wait", "is_set", "isSet")),
                       (threading.Semaphore, ("acquire", "__enter__", "release")),
                       (threading.BoundedSemaphore, ("acquire", "__enter__", "release")),
                       (threading.Barrier, ("wait", "_enter", "_release"))):
        _PLAIN[cls] = _plain_variant(cls, names)
        patcher.replace(cls, "__new__", _new_plain_if_internal)
    patcher.wrap(threading.Event, "__init__",
                 _init_with_clock(lambda _e: SyncVar(new_label("Event"))))
    # set() before a wait() or is_set() that reports the flag set.
    patcher.wrap(threading.Event, "set", release_before(_sync, "set"))
    observe = acquire_after(_sync, "wait", only_if_true=True)
    patcher.wrap(threading.Event, "wait", observe)
    patcher.wrap(threading.Event, "is_set", observe)
    if "isSet" in vars(threading.Event):
        patcher.wrap(threading.Event, "isSet", observe)

    patcher.wrap(threading.Semaphore, "__init__", _init_with_clock(_semaphore_state))
    patcher.wrap(threading.Semaphore, "acquire", _semaphore_acquire)
    # ``__enter__ = acquire`` in the class body: a second name for the original function.
    patcher.wrap(threading.Semaphore, "__enter__", _semaphore_acquire)
    patcher.wrap(threading.Semaphore, "release", _semaphore_release)
    # BoundedSemaphore.release is its own implementation (it does not call Semaphore's).
    patcher.wrap(threading.BoundedSemaphore, "release", _semaphore_release)

    patcher.wrap(threading.Barrier, "__init__", _init_with_clock(_barrier_state))
    patcher.wrap(threading.Barrier, "wait", _barrier_wait)
    patcher.wrap(threading.Barrier, "_enter", _barrier_enter)
    patcher.wrap(threading.Barrier, "_release", _barrier_release)


stacks.leave_out_frames_of(globals())
