"""Attributes: each (object, name) of an instance of a class that instrumented code defines
is a location, and so is each (class, name) read through such an instance.

``track_class`` is applied to every class an instrumented module defines (the rewrite puts
it on the class statement).  From then on, reading, setting and deleting an attribute of
an instance is checked as a dict's key is (an object's attributes are its keys): a read of
``obj.a`` (or of an attribute it lacks: ``hasattr`` before a lazy init), a write of
``obj.a = v`` and ``del obj.a``, and ``vars(obj)``/``obj.__dict__``, which reads every
attribute.  Which location an access is to is decided as Python's attribute lookup
decides where the value comes from:

* a data descriptor of the class (a ``property``...) runs code of its own: that code's
  accesses are what is checked, not the name; a ``__slots__`` member is the instance's;
* otherwise a value found in the instance is the instance's location; a plain value of the
  class read through the instance is the class's location (``kind`` "class"); methods and
  other descriptors with a ``__get__`` are the class's code, not data, and are not checked;
* an attribute that is missing is the instance's location: the read that fails races
  with the write that creates it.

A write (or delete) is checked once it is done: one that fails (a frozen dataclass, a
slot that does not exist) wrote nothing.

Each object's shadow is found by the object's identity in a table that a weak reference
to the object keeps honest: the entry goes when the object dies, before its address can
be reused.  An object that cannot be weakly referenced is not watched (the rewrite gives
instrumented classes with ``__slots__`` a ``__weakref__`` slot so that theirs can be).

This is the pure-Python core: it puts ``__getattribute__``, ``__setattr__`` and
``__delattr__`` in the class (the compiled core, racewatch/_core/object_hooks.c, puts the
last two there too, and reads through the type's slot instead).
"""

from __future__ import annotations

import _thread
import sys
import time
import types
import weakref

from . import module_globals, shadow, stacks, threads, unset
from .core import COMPILED
from .settings import SETTINGS, WATCH_ATTR
from .shadow import REGISTRY, Shadow
from .threads import ATTR_SEEN

EPOCH_NAMES = 8  # attribute names an object remembers of one epoch (RW_EPOCH_NAMES)

_MISSING = object()
_getframe = sys._getframe
_current = REGISTRY.current
_current_if_any = REGISTRY.current_if_any
_BUDGET_MASK = 4095  # as shadow.py's
_MemberDescriptor = types.MemberDescriptorType
_GetSetDescriptor = types.GetSetDescriptorType
CREATION_STACK_DEPTH = 8

# Every class instrumented code defined (hooked while the detector runs)
_defined: weakref.WeakSet = weakref.WeakSet()
# Every hooked class, held weakly: a class instrumented code defines dies as it would
# without the detector.  What each had before (its own __getattribute__, __setattr__ and
# __delattr__, or _MISSING) is kept on each of the hooks, as ``_originals``: an own
# method that calls super() holds its class through its ``__class__`` cell.
_hooked: weakref.WeakSet = weakref.WeakSet()
# id(obj) -> (weak reference to obj, its Shadow)
_shadows: dict[int, tuple] = {}
_lock = _thread.RLock()  # re-entrant: a weakref callback may run while it is held
# The tracked lock classes (patches/locks.py adds them): a read that gives one may be
# the read of the lock its thread released last (read_pending_lock).
LOCK_TYPES: set = set()
_monotonic_ns = time.monotonic_ns


def track_class(cls):
    """Watch the attributes of ``cls``'s instances (and of its subclasses') while the
    detector runs; ``cls`` itself is returned, as a class decorator does."""
    if isinstance(cls, type):
        slots = cls.__dict__.get("__slots__")
        if slots is not None:
            original = _given_slots.pop(id(slots), None)
            if original is not None and original[0] is slots:
                type.__setattr__(cls, "__slots__", original[1])
        try:
            _defined.add(cls)
        except TypeError:
            return cls
        if SETTINGS.enabled and _threads:
            _hook_if_watched(cls)
    return cls


# id(slots given) -> (slots given, slots written): weakref_slots to track_class
_given_slots: dict[int, tuple] = {}


def weakref_slots(slots, bases: tuple):
    """The ``__slots__`` a class statement gets (see the rewrite): ``slots`` with a
    ``__weakref__`` added when neither they nor a base gives the instances one, so that they
    can be watched.  ``track_class`` gives the class its ``__slots__`` as written."""
    if isinstance(slots, str):
        names = (slots,)
    elif isinstance(slots, dict):
        names = tuple(slots)
    else:
        try:
            names = tuple(slots)
        except TypeError:
            return slots  # type() will say what is wrong with them
    if "__weakref__" in names:
        return slots
    for base in bases or (object,):
        if not isinstance(base, type):
            return slots
        if base.__weakrefoffset__ or base.__itemsize__:  # has one already / cannot have one
            return slots
    given = {**slots, "__weakref__": None} if isinstance(slots, dict) else (*names, "__weakref__")
    _given_slots[id(given)] = (given, slots)
    return given


# Whether more than one thread has run since the detector started: until then no class is
# hooked (a lone thread's accesses need no checking, and a hooked class costs every one of
# them something); from then on every class instrumented code defines is.
_threads = False


def threads_began() -> None:
    """A second thread begins (or had begun when the detector started): hook every class
    instrumented code has defined, and those it defines from now on."""
    global _threads
    _threads = True
    for cls in list(_defined):
        _hook_if_watched(cls)


def start() -> None:
    """``racewatch.start()``: the classes are hooked once a second thread begins."""
    global _threads
    _threads = False
    if REGISTRY.solo is None:
        threads_began()
    else:
        REGISTRY.on_threads = threads_began


def hook_class(cls: type) -> None:
    if cls in _hooked:
        return
    _hook(cls)


def _hook_if_watched(cls: type) -> None:
    if SETTINGS.watch & WATCH_ATTR:
        hook_class(cls)


def _hook(cls: type) -> None:
    get, set_, delete = cls.__getattribute__, cls.__setattr__, cls.__delattr__

    def __getattribute__(self, name):
        try:
            value = get(self, name)
        except AttributeError as exc:
            if _from_instrumented_code(name, _getframe(1)):
                _after_get(self, name, _MISSING)
            stacks.hide_own_frames(exc)
            raise
        # An access the thread made already in its epoch first (counted, whoever's code
        # repeats it): the caller's frame is looked at only for the accesses to check.
        if _watched_name(name) and not _seen_again(self, name, False) \
                and _instrumented_frame(_getframe(1)) and not (
                    type(value) in LOCK_TYPES and read_pending_lock(self, name, value)):
            _after_get(self, name, value)
        return value

    def __setattr__(self, name, value):
        try:
            set_(self, name, value)
        except BaseException as exc:
            stacks.hide_own_frames(exc)
            raise
        if _watched_name(name) and not _seen_again(self, name, True) \
                and _instrumented_frame(_getframe(1)):
            _after_set(self, name, "setattr")

    def __delattr__(self, name):
        try:
            delete(self, name)
        except BaseException as exc:
            stacks.hide_own_frames(exc)
            raise
        if _watched_name(name) and not _seen_again(self, name, True) \
                and _instrumented_frame(_getframe(1)):
            _after_set(self, name, "delattr")

    for f, original in ((__getattribute__, get), (__setattr__, set_), (__delattr__, delete)):
        f.__qualname__ = f"{cls.__qualname__}.{f.__name__}"
        f.__doc__ = getattr(original, "__doc__", None)
    originals = (cls.__dict__.get("__getattribute__", _MISSING),
                 cls.__dict__.get("__setattr__", _MISSING),
                 cls.__dict__.get("__delattr__", _MISSING))
    for f in (__getattribute__, __setattr__, __delattr__):
        f._originals = originals
    _hooked.add(cls)
    cls.__getattribute__ = __getattribute__
    cls.__setattr__ = __setattr__
    cls.__delattr__ = __delattr__


def stop() -> None:
    """``racewatch.stop()``: every class gets back what it had; every object is forgotten."""
    global _threads
    _threads = False
    REGISTRY.on_threads = None
    unhook_classes()


# How many times every object was forgotten (stop, fork): an attribute a thread remembers
# seeing before that is not seen in the new history (as object_shadow.c's
# ``rw_objects_forgotten``).
_forgotten = 0


def unhook_classes() -> None:
    """Give every hooked class back what it had, forget every object."""
    global _forgotten
    _forgotten += 1
    with _lock:
        for cls in list(_hooked):
            originals = next((getattr(cls.__dict__.get(name), "_originals", None)
                              for name in ("__getattribute__", "__setattr__", "__delattr__")
                              if hasattr(cls.__dict__.get(name), "_originals")), None)
            if originals is None:  # the program replaced every hook itself
                continue
            for name, original in zip(("__getattribute__", "__setattr__", "__delattr__"),
                                      originals, strict=True):
                if original is _MISSING:
                    try:
                        delattr(cls, name)
                    except (AttributeError, TypeError):
                        pass
                else:
                    setattr(cls, name, original)
        _hooked.clear()
        _shadows.clear()


def _class_lookup(tp: type, name: str):
    """What ``type`` finds for ``name`` in ``tp``'s MRO (CPython's _PyType_Lookup)."""
    for klass in tp.__mro__:
        found = klass.__dict__.get(name, _MISSING)
        if found is not _MISSING:
            return found
    return _MISSING


def _owner(tp: type, name: str) -> type:
    """The class in ``tp``'s MRO whose namespace holds ``name``."""
    for klass in tp.__mro__:
        if name in klass.__dict__:
            return klass
    return tp


def _from_class(descr, obj, value) -> bool:
    """Whether ``value``, which ``obj.name`` gave where the class has ``descr``, a non-data
    descriptor (a method), is what the class gives, not a value of the object's own that
    hides it: told for a function (the bound method), a staticmethod (its function) and a
    classmethod (its function bound to the class); any other descriptor is taken to have
    given it.  (object.c, from_class: the same.)"""
    t = type(descr)
    if t is types.FunctionType:
        return type(value) is types.MethodType and value.__func__ is descr and value.__self__ is obj
    if t is staticmethod:
        return value is descr.__func__
    if t is classmethod:
        return (type(value) is types.MethodType and value.__func__ is descr.__func__
                and value.__self__ is type(obj))
    return True


def _is_data_descriptor(descr) -> bool:
    t = type(descr)
    return hasattr(t, "__set__") or hasattr(t, "__delete__")


def _from_instrumented_code(name, frame) -> bool:
    """Only an access made by instrumented code is checked: the state a program shares
    through its own code (a library's code that reads its own attributes of an instance of
    a subclass, threading.Thread's, has its own synchronization)."""
    return _watched_name(name) and _instrumented_frame(frame)


def _watched_name(name) -> bool:
    """Attribute accesses are watched, and ``name`` can be one (a str)."""
    return SETTINGS.enabled and SETTINGS.watch & WATCH_ATTR and type(name) is str


def _instrumented_frame(frame) -> bool:
    """``frame`` runs instrumented code.  Asked after ``_seen_again``, for the accesses to
    check only: an access the thread made already in its epoch is counted as one whoever's
    code repeats it (finding the caller's globals was a fifth of what the compiled core
    added to such a read, on 3.13)."""
    return module_globals.instrumented(frame.f_globals)


def _after_get(obj, name: str, value) -> None:
    """The read ``obj.name`` gave ``value`` (``_MISSING``: AttributeError)."""
    tp = type(obj)
    descr = _class_lookup(tp, name)
    found_unset = value is None or value is _MISSING
    if descr is not _MISSING:
        if _is_data_descriptor(descr):
            if type(descr) is _MemberDescriptor:
                _check(obj, name, "getattr", False, found_unset)
            elif name == "__dict__" and type(descr) is _GetSetDescriptor:
                _check(obj, None, "vars", False)
            return
        if hasattr(type(descr), "__get__"):
            if value is _MISSING or _from_class(descr, obj, value):
                return  # a method (or another non-data descriptor): the class's code
            _check(obj, name, "getattr", False, found_unset)  # a value of its own hides it
            return
        if value is descr:
            _check(_owner(tp, name), name, "getattr", False, found_unset)
            return
    _check(obj, name, "getattr", False, found_unset)


def read_pending_lock(obj, name: str, value) -> bool:
    """``obj.name`` gave ``value``, a tracked lock: when it is the lock this thread released
    last, while its epoch is pending, the read is checked in that epoch and remembered (True);
    else it is an ordinary read (False).

    ``with self.lock:`` reads ``self.lock`` before it takes the lock: in a loop, after the
    release that left the thread's epoch pending (sync.release_store).  Checked as an
    ordinary read, it would end that epoch, and every access of the round after it would
    start anew, although the thread then takes the same lock back and nobody joined the
    epoch.  So the read is checked in the pending epoch, and remembered with its stack, the
    locks held and its time: if the thread takes the lock back with nobody having taken it
    meanwhile, the epoch goes on and the read was made in it (sync.acquire_lock forgets
    it); if the epoch ends instead (at the thread's next access, publication or join), the
    read is recorded again in the next one, as it was (``replay_deferred``), before
    anything else: a write that another thread made after taking the lock, and so after
    joining the pending epoch, is then unordered with it, as it is with the read.  The
    compiled core does the same (object.c, read_pending_lock).
    """
    ts = _current()
    if not ts.pending or ts.busy or ts.ignoring or value._sync is not ts.pending_sv:
        return False
    if ts.deferred is not None:
        ts.settle()  # a second one: the first is recorded in the next epoch
        return False
    sv, clock = ts.pending_sv, ts.clock
    ts.pending = False
    try:
        if not _seen_again(obj, name, False):
            _after_get(obj, name, value)
    finally:
        # (the check itself published, if not: nothing is pending any more)
        still = not ts.pending and ts.pending_sv is sv and ts.clock == clock
        if still:
            ts.pending = True
    if still:
        ts.deferred = (obj, name, value, stacks.capture(SETTINGS.stack_depth), ts.held,
                       _monotonic_ns())
    return True


def replay_deferred(ts) -> None:
    """The deferred read of ``ts``, in the epoch that has just begun (ThreadState.settle)."""
    obj, name, value, stack, held, when = ts.deferred
    ts.deferred = None
    if ts.busy or ts.ignoring:
        return
    ts.replay = (stack, held, when)
    try:
        _after_get(obj, name, value)
    finally:
        ts.replay = None


threads.replay_deferred = replay_deferred


def _after_set(obj, name, op: str) -> None:
    descr = _class_lookup(type(obj), name)
    if (descr is not _MISSING and _is_data_descriptor(descr)
            and type(descr) is not _MemberDescriptor):
        return  # a property's setter: its own code's accesses are checked
    _check(obj, name, op, True)


def _watched_class(cls) -> bool:
    """A class instrumented code defined, while attributes are watched."""
    return (SETTINGS.enabled and SETTINGS.watch & WATCH_ATTR and isinstance(cls, type)
            and cls in _defined)


def class_read(cls, name: str, value):
    """``Class.name`` in rewritten code (a class the module defines): the read of the class's
    location, unless it is the class's code (a method) or a property of the metaclass's;
    returns ``value``, which Python's own lookup found."""
    if _watched_class(cls):
        descr = _class_lookup(cls, name)
        if (descr is not _MISSING and value is descr
                and not hasattr(type(descr), "__get__")):
            access(_owner(cls, name), name, "getattr", False, value is None)
    return value


def class_write(cls, name: str) -> None:
    """The statement before bound (or deleted) ``Class.name``."""
    if _watched_class(cls):
        access(cls, name, "setattr", True)


def class_update(cls, name: str) -> None:
    """``Class.name += ...``: a read and a write of the class's location."""
    if _watched_class(cls):
        access(_owner(cls, name), name, "getattr", False)
        access(cls, name, "setattr", True)


def access(target, name, op: str, write: bool, found_unset: bool = False) -> None:
    _check(target, name, op, write, found_unset)


def _seen_index(target, name) -> int:
    return ((id(target) >> 4) ^ (id(name) >> 3)) & (ATTR_SEEN - 1)


def _seen_again(target, name, write: bool) -> bool:
    """An access to attribute ``name`` of ``target`` that this thread made already in its
    current epoch (a read: a read or a write; a write: a write): counted as the access it
    is, and not checked again.  Asked before whether the caller is instrumented code: a
    library's code that repeats such an access counts it too.

    Each thread remembers, in a small table (``ThreadState.attr_seen``, indexed as the
    compiled core indexes its own, so that both skip the same accesses), the attributes it
    accessed in its current epoch.  Skipping such an access is sound: whatever another
    thread does to the location without ordering is checked, and reported, against the
    access that made the entry, or against this thread's write if that came first; it only
    spares the same pair of unordered accesses being found again.  The entry holds a weak
    reference to its object, so that another object at the same address is not taken for
    it.
    """
    ts = _current_if_any()  # (none yet: the thread's state is being made, or not made)
    if ts is None or ts.busy or ts.ignoring or ts.pending:
        return False  # (pending: the access starts a new epoch, through _check)
    e = ts.attr_seen[_seen_index(target, name)]
    if (e is None or e[0] != id(target) or e[1] is not name or e[3] != ts.clock
            or (write and not e[4]) or e[5] != _forgotten or e[2]() is not target):
        return False
    ts.accesses += 1
    if not ts.accesses & _BUDGET_MASK and SETTINGS.budget is not None:
        SETTINGS.budget.check()
    return True


def _check(target, name, op: str, write: bool, found_unset: bool = False) -> None:
    """One access to attribute ``name`` of ``target`` (None: every attribute); a read that
    ``found_unset`` the attribute (None, or missing) is remembered (see ``unset``)."""
    ts = shadow.enter_thread()
    if ts is None:
        return
    if name is not None and _seen_again_in(ts, target, name, write):
        return
    entry = _entry(target)
    if entry is None:
        return
    ref, sh = entry
    sh = shadow.fresh(sh)
    if name is None:
        shadow.read_all(ts, sh, op)
        return
    by_name = type(name) is str
    named = _epoch_named(sh, ts, name) if by_name else None
    if not (named or (named is False and not write)):
        if write:
            shadow.write(ts, sh, target, name, op)
        else:
            shadow.read(ts, sh, name, op)
            if found_unset:
                unset.saw_unset(sh, name)
        if by_name:
            _epoch_name_add(sh, ts, name, write)
    i = _seen_index(target, name)
    e = ts.attr_seen[i]
    same = (e is not None and e[2] is ref and e[1] is name and e[3] == ts.clock
            and e[5] == _forgotten)
    # A write the object remembers is one too: this thread's next write is skipped.
    written = write or named is True or (same and e[4])
    ts.attr_seen[i] = (id(target), name, ref, ts.clock, written, _forgotten)


def _seen_again_in(ts, target, name, write: bool) -> bool:
    e = ts.attr_seen[_seen_index(target, name)]
    return (e is not None and e[0] == id(target) and e[1] is name and e[3] == ts.clock
            and (e[4] or not write) and e[5] == _forgotten and e[2]() is target)


def _epoch_named(sh, ts, name: str) -> bool | None:
    """What this thread did to ``name`` of the shadow's object already in its current
    epoch: None (nothing), False (read it), True (wrote it).  A read found there is
    not checked again, nor is a write found written.

    The thread's ``attr_seen`` table holds ATTR_SEEN entries: a thread that goes round
    more objects than that (a simulation stepping its own thousands of particles) finds
    none of them there.  So each object remembers too, in ``Shadow.epoch_names``, the
    names (at most EPOCH_NAMES) that the last thread to access it accessed in its epoch
    (the slot and clock, unique in a run).  An access found there is not checked, for the
    reason ``_seen_again`` gives, and goes into the thread's table as a checked one does;
    the compiled core keeps the same memory the same way.
    """
    names = _epoch_names_now(sh, ts)
    return names.get(name) if names is not None else None


def _epoch_names_now(sh, ts) -> dict | None:
    """The names the shadow's memory holds for ``ts``'s current epoch, or None."""
    e = sh.epoch_names
    if e is not None and e[0] == ts.slot and e[1] == ts.clock and e[2] == _forgotten:
        return e[3]
    return None


def _epoch_name_add(sh, ts, name: str, write: bool) -> None:
    names = _epoch_names_now(sh, ts)
    if names is None:
        names = {}
        sh.epoch_names = (ts.slot, ts.clock, _forgotten, names)
    if name in names:
        names[name] = names[name] or write
    elif len(names) < EPOCH_NAMES:
        names[name] = write


def shadow_of(target) -> Shadow | None:
    """The shadow of an object's (or a class's) attributes, made on first use; None when it
    cannot be watched (it cannot be weakly referenced, or the memory budget is spent)."""
    entry = _entry(target)
    return entry[1] if entry is not None else None


def _entry(target):
    """(weak reference to ``target``, its Shadow), made on first use, or None."""
    key = id(target)
    entry = _shadows.get(key)
    if entry is not None:
        return entry
    if not SETTINGS.tracking:
        return None
    is_class = isinstance(target, type)
    name = target.__qualname__ if is_class else type(target).__qualname__
    made = Shadow("class" if is_class else "object",
                  stacks.capture(min(CREATION_STACK_DEPTH, SETTINGS.stack_depth)), name)
    try:
        ref = weakref.KeyedRef(target, _died, key)
    except TypeError:
        return None
    with _lock:
        entry = _shadows.get(key)
        if entry is None:
            entry = _shadows[key] = (ref, made)
    return entry


def _died(ref) -> None:
    # Before the object's memory (and so its id) can be reused.
    with _lock:
        entry = _shadows.get(ref.key)
        if entry is not None and entry[0] is ref:
            del _shadows[ref.key]


def reinit_after_fork() -> None:
    global _lock, _forgotten
    _lock = _thread.RLock()
    _forgotten += 1


if COMPILED is not None:
    # The same, with the type's own attribute slots (racewatch/_core/object*.c).
    hook_class = COMPILED.hook_class
    unhook_classes = COMPILED.unhook_classes
    access = COMPILED.object_access
    shadow_of = COMPILED.object_shadow_of

stacks.leave_out_frames_of(globals())
