"""Registries built on weak references: a value's death happens before a lookup of its key
that finds it gone.

A ``weakref.WeakValueDictionary`` of per-key locks (dogpile.cache's ``NameRegistry``,
oslo.concurrency's ``Semaphores``) makes the next lock for a key only once the previous
one has died: every thread that used the old lock had let go of it, so the two critical
sections never overlap, though they hold two different locks.  The edge: the thread in
which the value dies (the one that drops the last reference, or the collector's) runs the
dictionary's weakref callback, which publishes its clock under the key; a lookup that
finds the key gone (``d[key]`` raising ``KeyError``, ``get`` returning the default, ``in``
answering False, ``setdefault`` inserting) is ordered after every such death of that key.

What is not seen: a thread that used the value and let go of it before the thread in
which it died is ordered only by the value's own synchronization (the lock it released,
which a later user acquired), not by the death.  On a free-threaded CPython the thread
in which a value dies is not always the one that let go of it last: an object that
another thread lets go of dies in the thread that made it, once that one runs again
(biased reference counting), unless it has ended.  A lookup that runs between the moment
the value dies and the moment its callback runs (CPython clears the weak references
before it calls their callbacks) finds it gone without the edge.  Dictionaries made
before ``racewatch.start()`` add no edge, and a dictionary's deaths count from its first
lookup.  A dictionary remembers the deaths of ``MAX_KEYS`` keys; past that, the key that
first died longest ago is forgotten, and a later lookup of it gets no edge.

Every dictionary made after the start gets the edge, a cache as well as a lock registry:
a lookup that misses is ordered after the death of the key's earlier value, also where
the key is reused for an unrelated object (an ``id()``).
"""

from __future__ import annotations

from ..runtime import stacks
from ..runtime.sync import SyncVar, acquire, new_label, release_join
from .context import building_internals, thread_state

MAX_KEYS = 4096  # deaths remembered per dictionary, oldest forgotten first
_REMOVE = "_remove"  # the WeakValueDictionary's callback for its values' weak references
_MISSING = object()


class Deaths:
    """A dictionary's callback for its values' weak references: the original, after it
    publishes the dying thread's clock under the value's key."""

    __slots__ = ("remove", "label", "keys", "looked_up")

    def __init__(self, remove, label: str):
        self.remove = remove
        self.label = label
        self.keys: dict[object, SyncVar] = {}
        # Deaths are kept once the dictionary has been looked up: one that is only ever
        # filled and iterated (a registry of instances by id, as filelock keeps) has no
        # lookup to order, and its values come and go by the thousand.
        self.looked_up = False

    def __call__(self, wr):
        try:
            self._died(wr.key)
        finally:
            self.remove(wr)  # the dictionary's own removal, whatever happened above

    def _died(self, key) -> None:
        ts = thread_state() if self.looked_up else None
        if ts is None:
            return
        sync = self.keys.get(key)
        if sync is None:
            sync = self.keys.setdefault(key, SyncVar(f"{self.label}[{_key_repr(key)}]"))
            if len(self.keys) > MAX_KEYS:
                self._forget_oldest()
        release_join(sync, ts, "value died")

    def _forget_oldest(self) -> None:
        try:
            self.keys.pop(next(iter(self.keys)), None)
        except (RuntimeError, StopIteration):  # changed by another thread meanwhile
            pass

    def found_gone(self, key) -> None:
        sync = self.keys.get(key)
        if sync is not None:
            ts = thread_state()
            if ts is not None:
                acquire(sync, ts, "found gone")


def _key_repr(key) -> str:
    # A key's own __repr__ is not called from inside a weakref callback: it could be
    # instrumented code, or slow.
    if type(key) in (str, int, bytes, float, bool):
        text = repr(key)
        return text if len(text) <= 40 else text[:37] + "..."
    return f"<{type(key).__name__}>"


def _deaths(instance) -> Deaths | None:
    remove = getattr(instance, "__dict__", {}).get(_REMOVE)
    return remove if type(remove) is Deaths else None


def _init(wrapped, instance, args, kwargs):
    """Made empty, given its callback, then filled: every value's weak reference, the
    initial ones included, gets the callback that publishes the death."""
    if thread_state() is None or building_internals():
        return wrapped(*args, **kwargs)
    wrapped()
    remove = instance.__dict__.get(_REMOVE)
    if callable(remove):
        instance.__dict__[_REMOVE] = Deaths(remove, new_label(type(instance).__name__))
    if args or kwargs:
        instance.update(*args, **kwargs)


def _looked_up(instance) -> Deaths | None:
    """The dictionary's Deaths, marked as looked up (None for an untracked dictionary)."""
    deaths = _deaths(instance)
    if deaths is not None and not deaths.looked_up:
        deaths.looked_up = True
    return deaths


def _getitem(wrapped, instance, args, kwargs):
    deaths = _looked_up(instance)
    try:
        return wrapped(*args, **kwargs)
    except KeyError:
        if deaths is not None and len(args) == 1:
            deaths.found_gone(args[0])
        raise


def _get(wrapped, instance, args, kwargs):
    deaths = _looked_up(instance)
    result = wrapped(*args, **kwargs)
    if deaths is not None:
        key, default = _key_and_default(*args, **kwargs)
        if result is default and key is not _MISSING:
            deaths.found_gone(key)
    return result


def _key_and_default(key=_MISSING, default=None):
    return key, default


def _contains(wrapped, instance, args, kwargs):
    deaths = _looked_up(instance)
    found = wrapped(*args, **kwargs)
    if not found and deaths is not None and len(args) == 1:
        deaths.found_gone(args[0])
    return found


def install(patcher) -> None:
    # weakref is imported at every interpreter's start-up: this costs nothing new.
    patcher.when_imported("weakref", _install_weak_value_dictionary)


def _install_weak_value_dictionary(weakref, patcher) -> None:
    cls = weakref.WeakValueDictionary
    patcher.wrap(cls, "__init__", _init)
    patcher.wrap(cls, "__getitem__", _getitem)
    patcher.wrap(cls, "get", _get)
    patcher.wrap(cls, "__contains__", _contains)
    # setdefault returns its default when it found the key gone and inserted it.
    patcher.wrap(cls, "setdefault", _get)


stacks.leave_out_frames_of(globals())
