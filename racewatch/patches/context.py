"""What every patch asks first: is the detector on, which thread is this, and is it
building the internals of a primitive (whose locks must add no edge of their own)."""

from __future__ import annotations

from ..runtime import stacks
from ..runtime.core import COMPILED
from ..runtime.settings import SETTINGS
from ..runtime.shadow import REGISTRY
from ..runtime.sync import SyncTable, acquire, release_join
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


if COMPILED is not None:
    # The same three in C: asked on every edge, and around every internal lock's creation.
    thread_state = COMPILED.thread_state  # noqa: F811
    building_internals = COMPILED.building_internals  # noqa: F811
    as_internal = COMPILED.as_internal  # noqa: F811


def _identity(state):
    return state


def release_before(table: SyncTable, kind: str, sync_of=_identity):
    """A wrapt wrapper: publish the calling thread's clock in the object's sync state (from
    ``table``; ``sync_of`` picks the SyncVar in it), then make the call."""

    def wrapper(wrapped, instance, args, kwargs):
        state = table.get(instance)
        ts = thread_state() if state is not None else None
        if ts is not None:
            release_join(sync_of(state), ts, kind)
        return wrapped(*args, **kwargs)

    return wrapper


def acquire_from(table: SyncTable, obj, kind: str, sync_of=_identity) -> None:
    """Order the calling thread after every release into ``obj``'s sync state."""
    state = table.get(obj)
    ts = thread_state() if state is not None else None
    if ts is not None:
        acquire(sync_of(state), ts, kind)


def acquire_after(table: SyncTable, kind: str, sync_of=_identity, only_if_true: bool = False):
    """A wrapt wrapper: make the call, then ``acquire_from`` the object; with
    ``only_if_true``, only when the call returned something true (an Event's ``wait`` that
    timed out hands nothing over)."""

    def wrapper(wrapped, instance, args, kwargs):
        result = wrapped(*args, **kwargs)
        if result or not only_if_true:
            acquire_from(table, instance, kind, sync_of)
        return result

    return wrapper


stacks.leave_out_frames_of(globals())
