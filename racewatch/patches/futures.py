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

import concurrent.futures
import concurrent.futures._base as futures_base
import concurrent.futures.thread as futures_thread

from ..runtime import stacks
from ..runtime.sync import (
    SyncTable,
    SyncVar,
    acquire_clock,
    new_label,
    snapshot,
)
from ..runtime.tracked import _hide_frame
from .context import acquire_from, as_internal, release_before, thread_state

_future_clocks = SyncTable(factory=lambda: None)   # Future -> SyncVar
_pool_clocks = SyncTable(factory=lambda: None)     # ThreadPoolExecutor -> clock of its creation
_FINISHED = futures_base.FINISHED
# A _WorkItem is the executor's own, never the program's: its submit's clock rides on it.
_SUBMITTED = "_racewatch_submitted"


def _acquire_outcome(future, kind: str) -> None:
    acquire_from(_future_clocks, future, kind)


def _future_init(wrapped, instance, args, kwargs):
    result = as_internal(wrapped, instance, args, kwargs)  # its Condition is internal
    _future_clocks.set(instance, SyncVar(new_label("Future")))
    return result


def _future_outcome(wrapped, instance, args, kwargs):
    """``result()``/``exception()``: returning or raising the outcome hands it over."""
    try:
        return wrapped(*args, **kwargs)
    finally:
        # Once FINISHED a future never changes state: one read, without its lock.
        if getattr(instance, "_state", None) == _FINISHED:
            _acquire_outcome(instance, wrapped.__name__)


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


_original_as_completed = futures_base.as_completed


def as_completed(fs, timeout=None):
    """``concurrent.futures.as_completed``, ordering the caller after each future it yields."""
    for future in _original_as_completed(fs, timeout):
        _acquire_outcome(future, "as_completed")
        yield future


as_completed.__doc__ = _original_as_completed.__doc__


def _pool_init(wrapped, instance, args, kwargs):
    ts = thread_state()
    result = as_internal(wrapped, instance, args, kwargs)
    if ts is not None:
        _pool_clocks.set(instance, snapshot(ts, "create", new_label("ThreadPoolExecutor")))
    return result


def _pool_adjust_thread_count(wrapped, instance, args, kwargs):
    ts = thread_state()
    if ts is None:
        return wrapped(*args, **kwargs)
    saved = ts.spawn_clock
    ts.spawn_clock = _pool_clocks.get(instance)
    ts.internal += 1
    try:
        return wrapped(*args, **kwargs)
    finally:
        ts.internal -= 1
        ts.spawn_clock = saved


def _work_item_init(wrapped, instance, args, kwargs):
    """Runs inside ``submit()``, in the submitting thread: the task's start edge."""
    result = wrapped(*args, **kwargs)
    ts = thread_state()
    if ts is not None:
        label = _future_label(instance)
        setattr(instance, _SUBMITTED, (snapshot(ts, "submit", label), label))
    return result


def _future_label(work_item) -> str:
    sv = _future_clocks.get(getattr(work_item, "future", None))
    return sv.label if sv is not None else "task"


def _work_item_run(wrapped, instance, args, kwargs):
    submitted = instance.__dict__.pop(_SUBMITTED, None)
    ts = thread_state() if submitted is not None else None
    if ts is not None:
        clock, label = submitted
        acquire_clock(ts, clock, "task start", label)
    return wrapped(*args, **kwargs)


def install(patcher) -> None:
    Future = futures_base.Future
    patcher.wrap(Future, "__init__", _future_init)
    # set_result/set_exception: the end of the task, published before it is visible.
    complete = release_before(_future_clocks, "complete")
    patcher.wrap(Future, "set_result", complete)
    patcher.wrap(Future, "set_exception", complete)
    patcher.wrap(Future, "result", _future_outcome)
    patcher.wrap(Future, "exception", _future_outcome)
    patcher.wrap(Future, "add_done_callback", _add_done_callback)
    patcher.wrap(futures_base, "_create_and_install_waiters", as_internal)
    patcher.wrap(futures_base, "wait", _wait)
    patcher.replace(futures_base, "as_completed", as_completed)
    # The package re-exports both at import: programs use these names.
    patcher.replace(concurrent.futures, "wait", futures_base.wait)
    patcher.replace(concurrent.futures, "as_completed", as_completed)

    pool = futures_thread.ThreadPoolExecutor
    patcher.wrap(pool, "__init__", _pool_init)
    patcher.wrap(pool, "_adjust_thread_count", _pool_adjust_thread_count)
    patcher.wrap(futures_thread._WorkItem, "__init__", _work_item_init)
    patcher.wrap(futures_thread._WorkItem, "run", _work_item_run)


stacks.leave_out_frames_of(globals())
