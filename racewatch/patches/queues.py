"""Queues: ``put(item)`` before the ``get()`` that returns that item; ``task_done()`` before
the ``join()`` it releases.

``Queue`` (and so ``LifoQueue`` and ``PriorityQueue``, which inherit ``put``/``get``) pairs
each item with the putter's clock in a side table keyed by the item's identity.  That is
sound because the queue holds the item alive from ``put`` to ``get``, and it keeps
``q.queue`` exactly what the program put there.  ``SimpleQueue`` is written in C and its
storage is not visible, so it is replaced by a subclass that carries each item in an
envelope with its clock.  The queues' internal mutex and conditions add no edge, except
in a subclass that keeps state of its own under the mutex (see ``_keeps_state_under_mutex``).
"""

from __future__ import annotations

import _queue
import collections
import operator
import queue

from ..runtime import forks, stacks
from ..runtime.settings import SETTINGS
from ..runtime.shadow import REGISTRY
from ..runtime.sync import (
    SyncTable,
    SyncVar,
    acquire_clock,
    new_label,
    snapshot,
)
from ..runtime.tracked import _hide_frame
from .context import acquire_after, as_internal, building_internals, release_before, thread_state


class QueueClocks:
    """The clocks of the items in one queue, and of its ``task_done`` calls.

    The lock is re-entrant and made anew in a forked child (``forks.lock``); a signal
    handler may put into the same queue between two bytecodes of a method below, so each
    method leaves the table whole at every call it makes, and an entry that such a handler
    emptied and deleted first is no error.
    """

    __slots__ = ("items", "lock", "done", "label")

    def __init__(self, label: str):
        self.label = label
        self.items: dict[int, collections.deque] = {}
        self.lock = forks.lock()
        self.done = SyncVar(label)

    def add(self, item, clock) -> None:
        key = id(item)
        with self.lock:
            self.items.setdefault(key, collections.deque()).append(clock)

    def take(self, item, newest: bool):
        """The clock put with ``item``: the newest one for a LIFO queue, else the oldest."""
        key = id(item)
        with self.lock:
            clocks = self.items.get(key)
            if not clocks:
                return None
            clock = clocks.pop() if newest else clocks.popleft()
            if not clocks:
                self.items.pop(key, None)
            return clock

    def discard(self, item, clock) -> None:
        key = id(item)
        with self.lock:
            clocks = self.items.get(key)
            if clocks:
                try:
                    clocks.remove(clock)
                except ValueError:
                    pass
                if not clocks:
                    self.items.pop(key, None)


_clocks = SyncTable(factory=lambda: None)  # Queue -> QueueClocks


# queue.py: "These will only be called with appropriate locks held"
_HOOKS = ("_init", "_qsize", "_put", "_get")
_STDLIB_QUEUES = (queue.Queue, queue.LifoQueue, queue.PriorityQueue)


def _keeps_state_under_mutex(cls: type) -> bool:
    """Whether a subclass overrides one of the methods queue.Queue calls with its mutex held.

    Such a subclass (watchdog's SkipRepeatsQueue) keeps state of its own under that mutex,
    and often takes ``self.mutex`` itself to read it: there the mutex is the program's
    synchronization, and its queue gets it as an ordinary lock, with the edges a lock has.
    Its puts are then ordered with each other, as they are in fact.
    """
    return any(name in vars(klass) for klass in cls.__mro__[:-1]
               if klass not in _STDLIB_QUEUES for name in _HOOKS)


def _queue_init(wrapped, instance, args, kwargs):
    user_made = not building_internals()
    if user_made and _keeps_state_under_mutex(type(instance)):
        result = wrapped(*args, **kwargs)
    else:
        result = as_internal(wrapped, instance, args, kwargs)
    if user_made:
        _clocks.set(instance, QueueClocks(new_label(type(instance).__name__)))
    return result


def _queue_put(wrapped, instance, args, kwargs):
    clocks = _clocks.get(instance)
    ts = thread_state() if clocks is not None else None
    if ts is None:
        return wrapped(*args, **kwargs)
    item = _first_argument(*args, **kwargs)
    clock = snapshot(ts, "put", clocks.label)
    clocks.add(item, clock)
    try:
        return wrapped(*args, **kwargs)
    except BaseException:
        clocks.discard(item, clock)  # queue.Full: the item never went in
        raise


def _first_argument(item, *args, **kwargs):
    return item


def _queue_get(wrapped, instance, args, kwargs):
    item = wrapped(*args, **kwargs)
    clocks = _clocks.get(instance)
    ts = thread_state() if clocks is not None else None
    if ts is not None:
        acquire_clock(ts, clocks.take(item, isinstance(instance, queue.LifoQueue)), "get",
                      clocks.label)
    return item


class _Envelope:
    """An item in a tracked SimpleQueue, with the clock of its ``put``."""

    __slots__ = ("item", "clock")

    def __init__(self, item, clock):
        self.item = item
        self.clock = clock


class SimpleQueue(_queue.SimpleQueue):
    """``queue.SimpleQueue`` with the put-before-get edge for each item."""

    __slots__ = ()

    def __new__(cls, *args, **kwargs):
        if building_internals():
            # A pool's work queue: the pool's own edges (submit -> task) are modelled
            # in futures.py; the queue must add none of its own.
            return _queue.SimpleQueue(*args, **kwargs)
        return super().__new__(cls, *args, **kwargs)

    def put(self, item, block=True, timeout=None):
        ts = thread_state()
        if ts is not None:
            item = _Envelope(item, snapshot(ts, "put", _simple_label(self)))
        _queue.SimpleQueue.put(self, item, block, timeout)

    def put_nowait(self, item):
        self.put(item, False)

    def get(self, block=True, timeout=None):
        try:
            item = _queue.SimpleQueue.get(self, block, timeout)
        except BaseException as exc:
            _hide_frame(exc)
            raise
        if type(item) is _Envelope:
            if SETTINGS.enabled:
                ts = REGISTRY.current()
                if not ts.busy:
                    acquire_clock(ts, item.clock, "get", _simple_label(self))
            item = item.item
        return item

    def get_nowait(self):
        return self.get(False)


_simple_labels = SyncTable(factory=lambda: new_label("SimpleQueue"))


def _simple_label(q) -> str:
    return _simple_labels.setdefault(q)


SimpleQueue.__name__ = SimpleQueue.__qualname__ = "SimpleQueue"
SimpleQueue.__module__ = "queue"


def install(patcher) -> None:
    patcher.wrap(queue.Queue, "__init__", _queue_init)
    patcher.wrap(queue.Queue, "put", _queue_put)
    patcher.wrap(queue.Queue, "get", _queue_get)
    done = operator.attrgetter("done")  # task_done() before the join() it releases
    patcher.wrap(queue.Queue, "task_done", release_before(_clocks, "task_done", done))
    patcher.wrap(queue.Queue, "join", acquire_after(_clocks, "join", done))
    patcher.replace(queue, "SimpleQueue", SimpleQueue)


stacks.leave_out_frames_of(globals())
