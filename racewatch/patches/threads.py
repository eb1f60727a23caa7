"""Thread start and join: the parent before the child, the child's end before the joiner.

``Thread.start`` takes the parent's clock (and where it was called, for reports) before
the real start; the child adopts that clock at the top of ``_bootstrap_inner``, before
any of its own code.  ``Thread.join`` orders the joiner after the child's final clock
once the child is really gone.  ``_thread.start_new_thread`` gets the same start edge
(it has no join).  ``threading.Timer`` is a Thread and needs nothing of its own beyond
keeping its ``finished`` event internal.
"""

from __future__ import annotations

import _thread
import threading

from ..runtime import stacks
from ..runtime.settings import SETTINGS
from ..runtime.shadow import REGISTRY
from ..runtime.sync import ACQUIRE, SyncTable, acquire_clock, note, snapshot
from .context import as_internal, thread_state

_start_new_thread = _thread.start_new_thread
_get_ident = _thread.get_ident

# Thread object -> (clock, start stack, parent tid), from start() until the child begins.
_pending = SyncTable(factory=lambda: None)
# Thread object -> its ThreadState, for join.
_states = SyncTable(factory=lambda: None)


def _fork(ts, name: str) -> tuple:
    """What a new thread inherits from ``ts``, taken before the real start."""
    created = stacks.capture(SETTINGS.stack_depth)
    if ts.internal and ts.spawn_clock is not None:
        # A pool's worker, started inside submit(): it inherits the pool's creation, not
        # the submitter (tasks get their own edge from submit()).
        clock = ts.spawn_clock
    else:
        clock = snapshot(ts, "start", f"Thread '{name}'")
    REGISTRY.forking()
    return clock, created, ts.info.tid


def _start(wrapped, instance, args, kwargs):
    ts = thread_state()
    if ts is None:
        return wrapped(*args, **kwargs)
    _pending.set(instance, _fork(ts, instance.name))
    try:
        return wrapped(*args, **kwargs)
    except BaseException:
        if _pending.pop(instance) is not None:
            REGISTRY.fork_failed()
        raise


def _bootstrap_inner(wrapped, instance, args, kwargs):
    pending = _pending.pop(instance)
    state = None
    if pending is not None and SETTINGS.enabled:
        clock, created, parent_tid = pending
        state = REGISTRY.begin(instance.name, _get_ident(), created, parent_tid, clock, instance)
        note(state, "begin", f"started by T{parent_tid}", ACQUIRE, created)
        _states.set(instance, state)
    elif pending is not None:
        REGISTRY.fork_failed()
    try:
        return wrapped(*args, **kwargs)
    finally:
        if state is not None:
            REGISTRY.retire(state)


def _join(wrapped, instance, args, kwargs):
    result = wrapped(*args, **kwargs)
    ts = thread_state()
    if ts is not None and not instance.is_alive():
        child = _states.get(instance)
        if child is not None:
            acquire_clock(ts, child.vc, "join", f"Thread T{child.info.tid} '{instance.name}'")
            REGISTRY.update_solo()
    return result


class _ThreadFunction:
    """What ``_thread.start_new_thread`` runs: begins the child, then the user's function."""

    __slots__ = ("function", "inherited")

    def __init__(self, function, inherited):
        self.function = function
        self.inherited = inherited

    def __call__(self, *args, **kwargs):
        clock, created, parent_tid = self.inherited
        state = None
        if SETTINGS.enabled:
            ident = _get_ident()
            state = REGISTRY.begin(f"Thread-{ident}", ident, created, parent_tid, clock)
            note(state, "begin", f"started by T{parent_tid}", ACQUIRE, created)
        else:
            REGISTRY.fork_failed()
        try:
            return self.function(*args, **kwargs)
        finally:
            if state is not None:
                REGISTRY.retire(state)

    def __repr__(self):
        # _thread names the function when it reports an exception the thread let escape.
        return repr(self.function)


def start_new_thread(function, args, kwargs=None):
    """``_thread.start_new_thread`` with the parent-before-child edge."""
    ts = thread_state()
    if ts is not None:
        name = getattr(function, "__name__", "function")
        function = _ThreadFunction(function, _fork(ts, f"start_new_thread({name})"))
    try:
        if kwargs is None:
            return _start_new_thread(function, args)
        return _start_new_thread(function, args, kwargs)
    except BaseException:
        if ts is not None:
            REGISTRY.fork_failed()
        raise


start_new_thread.__doc__ = _start_new_thread.__doc__


def after_fork_in_child() -> None:
    """threading's own after-fork handler, which ran just before racewatch's, re-makes its
    thread-table lock with ``RLock()``: ours, while patched.  Every thread start takes that
    lock, so in a forked child it would order all threads; it is swapped for a plain one
    (only one thread exists in the child right now, and it holds no lock)."""
    from .locks import TrackedLock, TrackedRLock

    for name in ("_active_limbo_lock", "_shutdown_locks_lock"):
        lock = getattr(threading, name, None)
        if type(lock) is TrackedRLock:
            setattr(threading, name, _thread.RLock())
        elif type(lock) is TrackedLock:
            setattr(threading, name, _thread.allocate_lock())


def install(patcher) -> None:
    patcher.wrap(threading.Thread, "start", _start)
    patcher.wrap(threading.Thread, "_bootstrap_inner", _bootstrap_inner)
    patcher.wrap(threading.Thread, "join", _join)
    patcher.wrap(threading.Thread, "__init__", as_internal)   # its _started Event
    patcher.wrap(threading.Timer, "__init__", as_internal)    # its finished Event
    patcher.replace(_thread, "start_new_thread", start_new_thread)
    if hasattr(_thread, "start_new"):  # the old alias, removed in 3.13
        patcher.replace(_thread, "start_new", start_new_thread)


stacks.leave_out_frames_of(globals())
