"""What every patch asks first: is the detector on, which thread is this, and is it
building the internals of a primitive (whose locks must add no edge of their own)."""

from __future__ import annotations

from ..runtime.settings import SETTINGS
from ..runtime.shadow import REGISTRY
from ..runtime.threads import ThreadState


def thread_state() -> ThreadState | None:
    """The calling thread's state while the detector is on and not ignoring this thread."""
    if not SETTINGS.enabled:
        return None
    ts = REGISTRY.current()
    return None if ts.busy else ts


def building_internals() -> bool:
    """True inside ``as_internal``: primitives made now belong to another primitive."""
    return SETTINGS.enabled and REGISTRY.current().internal > 0


def as_internal(wrapped, instance, args, kwargs):
    """A wrapt wrapper: run a constructor whose locks, events and queues are internal.

    SPEC section 2: the locks that Event, Semaphore, Barrier, the queues and the executors
    use inside add no edge; two threads that both ``put()`` are not ordered by the queue's
    mutex.  The patched ``Lock``/``RLock``/``SimpleQueue`` hand out plain objects, and the
    patched primitives keep no clock, while this runs.
    """
    if not SETTINGS.enabled:
        return wrapped(*args, **kwargs)
    ts = REGISTRY.current()
    ts.internal += 1
    try:
        return wrapped(*args, **kwargs)
    finally:
        ts.internal -= 1
