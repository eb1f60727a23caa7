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
import sys
import threading
import time

from ..runtime import forks, stacks
from ..runtime.settings import SETTINGS
from ..runtime.shadow import REGISTRY
from ..runtime.sync import ACQUIRE, SyncTable, acquire_clock, note, snapshot
from .context import as_internal, thread_state

_start_new_thread = _thread.start_new_thread
_get_ident = _thread.get_ident
_monotonic = time.monotonic
_sleep = time.sleep

# Thread object -> (clock, start stack, parent tid), from start() until the child begins.
_pending = SyncTable(factory=lambda: None)
# Thread object -> its ThreadState, for join.
_states = SyncTable(factory=lambda: None)
# OS thread ident -> what was started on it (a Thread, or start_new_thread's function),
# from the moment the thread exists until it begins (see _begin_announced).
_announced: dict[int, object] = {}
_parent_announced: list[dict] = []


def _announced_anew() -> None:
    """In a forked child: the threads it names do not exist there, and the dict, which every
    thread start writes, may have been left locked by one of them (see forks.lookup).  The
    parent's is kept: nothing dies (and calls back) while the child resets."""
    global _announced
    _parent_announced.append(_announced)
    _announced = {}


forks.at_fork_in_child(_announced_anew)
# How long code that runs in a new thread before its bootstrap waits for the starting
# thread to say which thread it is (it does so as soon as the OS thread exists).
_ANNOUNCE_WAIT = 0.05


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


def _begin_started(thread: threading.Thread):
    """Begin the calling thread, which ``thread.start()`` announced, from its start's clock;
    its state if it has begun already (``None`` if it never was announced).

    Called by the bootstrap patch, or earlier by ``REGISTRY.adopt`` (see
    ``_begin_announced``), or both, nested: the start's entry is taken only once begun.
    """
    pending = _pending.get(thread)
    if pending is None:
        return _states.get(thread)
    clock, created, parent_tid = pending
    ident = _get_ident()
    state = REGISTRY.begin(thread.name, ident, created, parent_tid, clock, thread)
    note(state, "begin", f"started by T{parent_tid}", ACQUIRE, created)
    _states.set(thread, state)
    if _pending.pop(thread) is not None:
        REGISTRY.started()
    _announced.pop(ident, None)
    return state


def _start_thread(wrapped, instance, args, kwargs):
    """threading's own start of the OS thread (``_start_new_thread``, 3.13's
    ``_start_joinable_thread``): which Thread runs on the new ident, for code that runs
    in it before its bootstrap (see ``_begin_announced``)."""
    result = wrapped(*args, **kwargs)
    function = args[0] if args else kwargs.get("function")
    thread = getattr(function, "__self__", None)
    if isinstance(thread, threading.Thread) and _pending.get(thread) is not None:
        handle = kwargs.get("handle", result)
        ident = result if isinstance(result, int) else getattr(handle, "ident", None)
        if isinstance(ident, int):
            _announced[ident] = thread
    return result


def _bootstrap_inner(wrapped, instance, args, kwargs):
    state = None
    if SETTINGS.enabled:
        state = _begin_started(instance)
    elif _pending.pop(instance) is not None:
        REGISTRY.fork_failed()
    _announced.pop(_get_ident(), None)
    try:
        return wrapped(*args, **kwargs)
    finally:
        if state is not None:
            _end(state)


def _end(state) -> None:
    """The calling thread's end, in the thread: its last epoch ends (a lock's release may
    have left it pending, with a read of that lock still to record in the next epoch:
    runtime/objects.py, ``read_pending_lock``), then its slot is given back."""
    state.settle()
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

    __slots__ = ("function", "inherited", "state")

    def __init__(self, function, inherited):
        self.function = function
        self.inherited = inherited
        self.state = None

    def begin(self):
        """Begin the calling thread from its start's clock, once (as ``_begin_started``)."""
        inherited = self.inherited
        if inherited is None:
            return self.state
        clock, created, parent_tid = inherited
        ident = _get_ident()
        state = REGISTRY.begin(f"Thread-{ident}", ident, created, parent_tid, clock)
        note(state, "begin", f"started by T{parent_tid}", ACQUIRE, created)
        self.state = state
        if self.inherited is not None:
            self.inherited = None
            REGISTRY.started()
        _announced.pop(ident, None)
        return state

    def __call__(self, *args, **kwargs):
        state = None
        if SETTINGS.enabled:
            state = self.begin()
        elif self.inherited is not None:
            self.inherited = None
            REGISTRY.fork_failed()
        _announced.pop(_get_ident(), None)
        try:
            return self.function(*args, **kwargs)
        finally:
            if state is not None:
                _end(state)

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
            ident = _start_new_thread(function, args)
        else:
            ident = _start_new_thread(function, args, kwargs)
    except BaseException:
        if ts is not None:
            REGISTRY.fork_failed()
        raise
    if ts is not None and function.inherited is not None:
        _announced[ident] = function
    return ident


start_new_thread.__doc__ = _start_new_thread.__doc__

_BOOTSTRAP = threading.Thread._bootstrap.__code__
_THREAD_FUNCTION = _ThreadFunction.__call__.__code__


def _begin_announced():
    """``REGISTRY.begin_announced``: the state of a thread that a watched thread started,
    asked for by code that runs in it before it has begun (a GC callback, a finalizer), or
    None.

    The thread's start is found under its ident, which the starting thread records as soon
    as the OS thread exists (``_start_thread``), or in the frames that run the thread.  A
    collection can come before both, before the thread has a frame and while the starting
    thread has not had the GIL back yet: then this waits a little for the record, while a
    start is under way.
    """
    ident = _get_ident()
    deadline = None
    while True:
        starter = _announced.get(ident) or _starter_in_frames(sys._getframe(1))
        if isinstance(starter, _ThreadFunction):
            return starter.begin()
        if isinstance(starter, threading.Thread):
            return _begin_started(starter)
        if not REGISTRY.starting():
            return None
        now = _monotonic()
        if deadline is None:
            deadline = now + _ANNOUNCE_WAIT
        elif now > deadline:
            return None
        _sleep(0)  # the GIL, to the thread that is starting this one


def _starter_in_frames(frame):
    """The Thread or start_new_thread function whose frame runs below ``frame``."""
    while frame is not None:
        code = frame.f_code
        if code is _BOOTSTRAP or code is _THREAD_FUNCTION:
            return frame.f_locals.get("self")
        frame = frame.f_back
    return None


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
    for name in ("_start_new_thread", "_start_joinable_thread"):  # 3.13: the latter
        if hasattr(threading, name):
            patcher.wrap(threading, name, _start_thread)
    patcher.replace(REGISTRY, "begin_announced", _begin_announced)


stacks.leave_out_frames_of(globals())
