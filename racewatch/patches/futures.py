"""concurrent.futures: ``submit()`` before the task starts; the task's end before whatever
hands over its outcome (``result()``, ``exception()``, a done callback, ``as_completed``,
``wait``, and so ``map``).

The task's end is the ``set_result``/``set_exception`` its worker makes on the future, so a
``Future`` that a program completes itself gets the same edge.  A pool's workers inherit
the clock of the pool's creation, not of the submit that happened to start them: tasks are
ordered by their own submit only, as the documentation promises.  The executor's locks,
semaphore and work queue are internals and add no edge.
"""

from __future__ import annotations

import functools

from ..runtime import stacks
from ..runtime.sync import (
    SyncTable,
    SyncVar,
    acquire,
    acquire_clock,
    label_counter,
    new_label,
    release_join,
    snapshot,
)
from ..runtime.tracked import _hide_frame
from .context import as_internal, thread_state

_pool_clocks = SyncTable(factory=lambda: None)     # ThreadPoolExecutor -> clock of its creation
_FINISHED = "FINISHED"  # concurrent.futures._base.FINISHED, read again at install
_Future = None  # concurrent.futures.Future, set at install
_future_labels = label_counter("Future")
_getattribute = object.__getattribute__
# A pool churns through one Future and one _WorkItem per task, so their state rides on
# them (both have a __dict__) rather than in a table of weak references: the future's
# SyncVar, made by its submit or its first completion, and the work item's submit clock.
_SYNC = "_racewatch_sync"
_SUBMITTED = "_racewatch_submitted"


def _future_sync(future) -> SyncVar:
    """The future's SyncVar, made on first use (setdefault: one even if two threads race).

    Read as an attribute, not with ``future.__dict__.get``: on free-threaded CPython 3.13 a
    ``__dict__.get`` from a thread other than the one that made the object takes the dict's
    lock, and a pool's workers then spin on it (a hundred times the cost, in
    ``pool_churn``).  ``object.__getattribute__``: a subclass's ``__getattr__`` never runs.
    """
    try:
        return _getattribute(future, _SYNC)
    except AttributeError:
        return future.__dict__.setdefault(_SYNC, SyncVar(new_label("Future")))


def _new_future_sync(future) -> SyncVar:
    """``_future_sync`` for the future a ``submit()`` has just made, in its thread.

    A plain ``Future`` is asked with ``getattr``'s default, which finds the attribute
    missing without raising an AttributeError (one per task otherwise), and gets it set as
    an attribute, which leaves its ``__dict__`` unmade (CPython keeps a new object's
    attributes inline until that is asked for): no other thread can see it yet.
    """
    if type(future) is not _Future:
        return _future_sync(future)
    sync = getattr(future, _SYNC, None)
    if sync is None:
        sync = SyncVar(f"Future#{next(_future_labels)}")  # (new_label's numbering)
        object.__setattr__(future, _SYNC, sync)
    return sync


def _acquire_outcome(future, kind: str) -> None:
    """The caller is handed ``future``'s outcome: ordered after its completion, if it has a
    SyncVar (read as ``_future_sync`` reads it)."""
    try:
        sync = _getattribute(future, _SYNC)
    except AttributeError:
        return
    ts = thread_state()
    if ts is not None:
        acquire(sync, ts, kind)


# A future's methods keep their documented signatures (set_result(result),
# set_exception(exception), result(timeout=None), exception(timeout=None)): a function with
# ``*args, **kwargs`` makes a dict, a list and a tuple at every call to pass them on
# (callgrind, 3.12: 4,100 instructions a task, a tenth of what racewatch adds to one).

def _completed(future) -> None:
    """The end of the task ``future`` stands for, published before its outcome is."""
    ts = thread_state()
    if ts is not None:
        release_join(_future_sync(future), ts, "complete")


def _patched_set_result(original):
    @functools.wraps(original)
    def set_result(self, result):
        _completed(self)
        return original(self, result)
    return set_result


def _patched_set_exception(original):
    @functools.wraps(original)
    def set_exception(self, exception):
        _completed(self)
        return original(self, exception)
    return set_exception


def _patched_outcome(original):
    """``result()``/``exception()``: returning or raising the outcome hands it over."""
    kind = original.__name__

    @functools.wraps(original)
    def outcome(self, timeout=None):
        try:
            return original(self, timeout)
        finally:
            # Once FINISHED a future never changes state: one read, without its lock.
            if getattr(self, "_state", None) == _FINISHED:
                _acquire_outcome(self, kind)
    return outcome


class _DoneCallback:
    """A done callback that first takes the future's outcome edge."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, future):
        _acquire_outcome(future, "done callback")
        try:
            return self.fn(future)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def __repr__(self):
        return repr(self.fn)


def _add_done_callback(wrapped, instance, args, kwargs):
    fn = _first_argument(*args, **kwargs)
    return wrapped(_DoneCallback(fn))


def _first_argument(fn, *args, **kwargs):
    return fn


def _wait(wrapped, instance, args, kwargs):
    result = wrapped(*args, **kwargs)
    for future in result.done:
        _acquire_outcome(future, "wait")
    return result


def _patched_as_completed(original):
    def as_completed(fs, timeout=None):
        """``concurrent.futures.as_completed``, ordering the caller after each future it
        yields."""
        for future in original(fs, timeout):
            _acquire_outcome(future, "as_completed")
            yield future

    as_completed.__doc__ = original.__doc__
    return as_completed


def _pool_init(wrapped, instance, args, kwargs):
    ts = thread_state()
    result = as_internal(wrapped, instance, args, kwargs)
    if ts is not None:
        _pool_clocks.set(instance, snapshot(ts, "create", new_label("ThreadPoolExecutor")))
    return result


def _pool_adjust_thread_count(wrapped, instance, args, kwargs):
    ts = thread_state()
    if ts is None or len(getattr(instance, "_threads", ())) >= getattr(instance, "_max_workers", 0):
        # Every worker is started (the common case in a busy pool): nothing to inherit.
        return wrapped(*args, **kwargs)
    saved = ts.spawn_clock
    ts.spawn_clock = _pool_clocks.get(instance)
    ts.internal += 1
    try:
        return wrapped(*args, **kwargs)
    finally:
        ts.internal -= 1
        ts.spawn_clock = saved


def _patched_work_item_init(original):
    """Runs inside ``submit()``, in the submitting thread: the task's start edge."""
    @functools.wraps(original)
    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        ts = thread_state()
        if ts is not None:
            future = getattr(self, "future", None)
            label = _new_future_sync(future).label if future is not None else "task"
            self.__dict__[_SUBMITTED] = (snapshot(ts, "submit", label), label)
    return __init__


def _patched_work_item_run(original):
    """The task's start, in the worker.  The pool's worker calls ``run()`` (``run(ctx)``
    from 3.14) and nothing else does: no keywords to pass on."""
    @functools.wraps(original)
    def run(self, *args):
        submitted = self.__dict__.pop(_SUBMITTED, None)
        ts = thread_state() if submitted is not None else None
        if ts is not None:
            clock, label = submitted
            acquire_clock(ts, clock, "task start", label)
        return original(self, *args) if args else original(self)
    return run


def install(patcher) -> None:
    # Applied when the program imports them: racewatch does not import concurrent.futures
    # (and logging with it) into every watched process.
    patcher.when_imported("concurrent.futures", _install_futures)
    patcher.when_imported("concurrent.futures.thread", _install_pool)


def _install_futures(package, patcher) -> None:
    """On the package: by then ``_base`` is loaded and its names re-exported."""
    global _FINISHED, _Future
    base = package._base
    _FINISHED = base.FINISHED
    Future = _Future = base.Future
    patcher.wrap(Future, "__init__", as_internal)  # its Condition is internal
    patcher.replace(Future, "set_result", _patched_set_result(Future.set_result))
    patcher.replace(Future, "set_exception", _patched_set_exception(Future.set_exception))
    for name in ("result", "exception"):
        patcher.replace(Future, name, _patched_outcome(getattr(Future, name)))
    patcher.wrap(Future, "add_done_callback", _add_done_callback)
    patcher.wrap(base, "_create_and_install_waiters", as_internal)
    patcher.wrap(base, "wait", _wait)
    patcher.replace(base, "as_completed", _patched_as_completed(base.as_completed))
    # The package re-exports both at import: programs use these names.
    patcher.replace(package, "wait", base.wait)
    patcher.replace(package, "as_completed", base.as_completed)


def _install_pool(thread, patcher) -> None:
    pool = thread.ThreadPoolExecutor
    patcher.wrap(pool, "__init__", _pool_init)
    patcher.wrap(pool, "_adjust_thread_count", _pool_adjust_thread_count)
    item = thread._WorkItem
    patcher.replace(item, "__init__", _patched_work_item_init(item.__init__))
    patcher.replace(item, "run", _patched_work_item_run(item.run))


stacks.leave_out_frames_of(globals())
