"""The tracked ``dict`` and ``defaultdict`` that instrumented code creates, and ``track()``
for every kind (the tracked ``list`` and ``set`` are in tracked_seq.py).

Each is a subclass whose methods tell the shadow (``shadow.py``) what they read and
write, then do exactly what the base method does.  What a program can observe is kept
the same:

* the classes are *named* ``dict`` and ``defaultdict`` (CPython builds error messages and
  ``defaultdict``'s repr from the type's name), and ``obj.__class__`` is the builtin;
  ``type(obj) is dict`` holds in instrumented code, where ``type`` is rewritten;
* ``__repr__`` is a descriptor: ``repr(d)`` records a read, while ``type(d).__repr__`` is
  still ``dict.__repr__``, the identity ``pprint`` dispatches on to print a dict;
* pickling gives a plain ``dict``/``defaultdict`` (so unpickling never needs racewatch);
  ``copy``/``deepcopy`` give tracked copies;
* on 3.11+ an exception raised by the base method (a ``KeyError``, a key's failing
  ``__hash__``) leaves with no racewatch frame in its traceback.  3.10 re-raises with the
  traceback captured at the ``except``, so there one frame of this module shows.
"""

from __future__ import annotations

from collections import defaultdict
from types import MethodType

from . import settings, shadow, stacks
from .core import COMPILED

# What else rewritten code calls: the class decorator, and the module globals' checks.
from .module_globals import (  # noqa: F401
    gdelete,
    gread,
    gstore,
    gupdate,
    gwrite,
    track_globals,
    track_globals_of,
)
from .objects import (  # noqa: F401
    class_read,
    class_update,
    class_write,
    track_class,
    weakref_slots,
)
from .settings import SETTINGS, WATCH_DICT, WATCH_LIST, WATCH_SET

_on_read = shadow.on_read
_on_write = shadow.on_write
_on_keys_read = shadow.on_keys_read
_on_read_all = shadow.on_read_all
_on_clear = shadow.on_clear
_capture = stacks.capture

_contains = dict.__contains__
_getitem = dict.__getitem__
_setitem = dict.__setitem__
_delitem = dict.__delitem__
_dict_get = dict.get
_dict_pop = dict.pop
_dict_popitem = dict.popitem
_dict_setdefault = dict.setdefault
_dict_update = dict.update
_dict_keys = dict.keys
_dict_values = dict.values
_dict_items = dict.items
_dict_iter = dict.__iter__
_dict_len = dict.__len__
_dict_reversed = dict.__reversed__
_dict_eq = dict.__eq__
_dict_ne = dict.__ne__
_dict_clear = dict.clear
_dict_repr = dict.__repr__
_dd_repr = defaultdict.__repr__
_dd_missing = defaultdict.__missing__
_list_iter = list.__iter__
_set_iter = set.__iter__

CREATION_STACK_DEPTH = 8

_hide_frame = stacks.hide_own_frames


class _TrackedRepr:
    """``__repr__`` that records a read of every key; ``type(d).__repr__`` is the base's."""

    __slots__ = ("base", "method")

    def __init__(self, base, method=None):
        self.base = base
        self.method = method or _tracked_repr

    def __get__(self, instance, owner=None):
        if instance is None:
            return self.base
        return MethodType(self.method, instance)


def _tracked_repr(self):
    _on_read_all(self, "repr")
    try:
        return type(self).__repr__(self)
    except BaseException as exc:
        _hide_frame(exc)
        raise


class _Tracking:
    """The methods shared by both tracked types; ``dict``'s own do the real work."""

    __slots__ = ()

    # -- single-key reads ---------------------------------------------------------------

    def __getitem__(self, key):
        _on_read(self, key, "getitem")
        try:
            return _getitem(self, key)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def get(self, key, default=None, /):
        _on_read(self, key, "get")
        try:
            return _dict_get(self, key, default)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def __contains__(self, key):
        _on_read(self, key, "contains")
        try:
            return _contains(self, key)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    # -- single-key writes ---------------------------------------------------------------

    def __setitem__(self, key, value):
        try:
            _on_write(self, key, "setitem", not _contains(self, key))
            _setitem(self, key, value)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def __delitem__(self, key):
        try:
            if _contains(self, key):
                _on_write(self, key, "delitem", True)
            else:
                _on_read(self, key, "delitem")
            _delitem(self, key)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def setdefault(self, key, default=None, /):
        try:
            if _contains(self, key):
                _on_read(self, key, "setdefault")
            else:
                _on_write(self, key, "setdefault", True)
            return _dict_setdefault(self, key, default)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def pop(self, key, /, *default):
        try:
            try:
                present = _contains(self, key)
            except TypeError:  # unhashable: no location; pop says what follows (a default
                return _dict_pop(self, key, *default)  # on an empty dict: no hashing)
            if present:
                _on_write(self, key, "pop", True)
            else:
                _on_read(self, key, "pop")
            return _dict_pop(self, key, *default)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def popitem(self):
        try:
            item = _dict_popitem(self)
        except BaseException as exc:
            _on_keys_read(self, "popitem")
            _hide_frame(exc)
            raise
        # Which item it takes depends on the order of the keys: a read of them, then the
        # delete of the key it took.
        _on_keys_read(self, "popitem")
        _on_write(self, item[0], "popitem", True)
        return item

    def update(*args, **kwargs):
        # (*args, as dict's own: ``d.update(self=1)`` sets the key "self".)  dict.update
        # itself consumes the argument (same calls, same errors, inserting as it goes: a
        # generator that looks at the dict sees it grow); each pair goes through _recorded,
        # which records the write just before dict.update inserts it.
        self, *args = args
        try:
            if len(args) > 1:
                raise TypeError(f"update expected at most 1 argument, got {len(args)}")
            if args:
                other = args[0]
                if type(other) is not dict and not hasattr(other, "keys"):
                    other = iter(other)
                _dict_update(self, _recorded(self, _pairs(other), "update"))
            if kwargs:
                _dict_update(self, _recorded(self, _dict_items(kwargs), "update"))
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def __ior__(self, other, /):
        try:
            if type(other) is not dict and not hasattr(other, "keys"):
                other = iter(other)
            _dict_update(self, _recorded(self, _pairs(other), "ior"))
        except BaseException as exc:
            _hide_frame(exc)
            raise
        return self

    def clear(self):
        _on_clear(self)
        _dict_clear(self)

    # -- the set of keys -----------------------------------------------------------------

    def __len__(self):
        _on_keys_read(self, "len")
        return _dict_len(self)

    def __iter__(self):
        _on_keys_read(self, "iter")
        return _dict_iter(self)

    def __reversed__(self):
        _on_keys_read(self, "reversed")
        return _dict_reversed(self)

    def keys(self):
        _on_keys_read(self, "keys")
        return _dict_keys(self)

    # -- every key -----------------------------------------------------------------------

    def values(self):
        _on_read_all(self, "values")
        return _dict_values(self)

    def items(self):
        _on_read_all(self, "items")
        return _dict_items(self)

    def __eq__(self, other):
        result = _reflected_first(self, other, "__eq__")
        if result is not NotImplemented:
            return result
        _on_read_all(self, "eq")
        if isinstance(other, _Tracking):
            _on_read_all(other, "eq")
        try:
            return _dict_eq(self, other)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def __ne__(self, other):
        result = _reflected_first(self, other, "__ne__")
        if result is not NotImplemented:
            return result
        _on_read_all(self, "ne")
        if isinstance(other, _Tracking):
            _on_read_all(other, "ne")
        try:
            return _dict_ne(self, other)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def __reduce_ex__(self, protocol):
        # A plain dict/defaultdict in the pickle: loading it never needs racewatch.
        _on_read_all(self, "reduce")
        return self._plain_reduce()

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        import copy

        _on_read_all(self, "deepcopy")
        result = self._empty_like()
        memo[id(self)] = result
        for key, value in _dict_items(self):
            # As copy's dict copier: ``y[deepcopy(key)] = deepcopy(value)`` copies the value
            # first (the right-hand side of an assignment is evaluated first).
            copied = copy.deepcopy(value, memo)
            _setitem(result, copy.deepcopy(key, memo), copied)
        return result

    __hash__ = None


def _reflected_first(self, other, reflected: str):
    """What Python does before ``builtin_dict OP other``: when ``other`` is of a subclass of
    that builtin that overrides the reflected method, that method goes first.  The tracked
    types are not the builtin, so Python does not do it for them: they do it themselves.
    NotImplemented when the rule does not apply or the method declined.
    """
    t = type(other)
    seen_as = PUBLIC_TYPE.get(t, t)  # a tracked operand counts as the builtin it stands for
    public = PUBLIC_TYPE[type(self)]
    if seen_as is public or not issubclass(seen_as, public):
        return NotImplemented
    if getattr(seen_as, reflected, None) is getattr(public, reflected):
        return NotImplemented
    return getattr(t, reflected)(other, self)


def _pairs(other):
    """What dict.update iterates for ``other``, calling what it calls: ``keys()`` then
    ``other[key]`` for a mapping (an exact dict's items directly), else the pairs."""
    if type(other) is dict:
        return _dict_items(other)
    if hasattr(other, "keys"):
        return ((key, other[key]) for key in other.keys())
    return other  # already iter()'d by the caller: a non-iterable fails in its frame


def _recorded(d, pairs, op: str):
    """``pairs``, each recorded as a write of ``d`` just before dict.update inserts it.

    An element is passed on as dict.update would see it (made a tuple, as its
    PySequence_Fast would); one that is not a pair is passed on untouched, for dict.update
    to raise its own error about it.
    """
    for item in pairs:
        if type(item) is not tuple:
            try:
                item = tuple(item)
            except TypeError:
                yield item
                continue
        if len(item) == 2:
            key = item[0]
            try:
                _on_write(d, key, op, not _contains(d, key))
            except TypeError:  # unhashable: dict.update raises it, with its own message
                pass
        yield item


class TrackedDict(_Tracking, dict):
    __slots__ = ("_rw_shadow",)
    __repr__ = _TrackedRepr(_dict_repr)

    @property
    def __class__(self):
        return dict

    def copy(self):
        _on_read_all(self, "copy")
        return track(dict(_dict_items(self)))

    def __or__(self, other):
        if not isinstance(other, dict):
            return NotImplemented
        reflected = _reflected_first(self, other, "__ror__")
        if reflected is not NotImplemented:
            return reflected
        _on_read_all(self, "or")
        result = dict(_dict_items(self))
        result.update(other)
        return track(result)

    def __ror__(self, other):
        if not isinstance(other, dict):
            return NotImplemented
        _on_read_all(self, "or")
        result = dict(other)
        result.update(_dict_items(self))
        return track(result)

    @classmethod
    def fromkeys(cls, iterable, value=None):
        return track(dict.fromkeys(iterable, value))

    def _plain_reduce(self):
        return (dict, (), None, None, iter(_dict_items(self)))

    def _empty_like(self):
        return track({})


class TrackedDefaultDict(_Tracking, defaultdict):
    __slots__ = ("_rw_shadow",)
    __repr__ = _TrackedRepr(_dd_repr)

    @property
    def __class__(self):
        return defaultdict

    def __missing__(self, key):
        # dict's lookup calls this for a missing key: a defaultdict miss inserts the key.
        factory = self.default_factory
        if factory is None:
            _on_read(self, key, "missing")
            try:
                return _dd_missing(self, key)
            except BaseException as exc:
                _hide_frame(exc)
                raise
        _on_write(self, key, "missing", not _contains(self, key))
        try:
            # The dicts, lists and sets that a ``defaultdict(list)`` makes are shared like
            # their parent.
            value = track(factory()) if factory in _FRESH else factory()
        except BaseException as exc:
            _hide_frame(exc)
            raise
        _setitem(self, key, value)
        return value

    def copy(self):
        _on_read_all(self, "copy")
        return track(defaultdict(self.default_factory, _dict_items(self)))

    def __or__(self, other):
        if not isinstance(other, dict):
            return NotImplemented
        reflected = _reflected_first(self, other, "__ror__")
        if reflected is not NotImplemented:
            return reflected
        _on_read_all(self, "or")
        result = defaultdict(self.default_factory, _dict_items(self))
        result.update(other)
        return track(result)

    def __ror__(self, other):
        if not isinstance(other, dict):
            return NotImplemented
        _on_read_all(self, "or")
        result = defaultdict(self.default_factory, other)
        result.update(_dict_items(self))
        return track(result)

    def _plain_reduce(self):
        factory = self.default_factory
        args = (factory,) if factory is not None else ()
        return (defaultdict, args, None, None, iter(_dict_items(self)))

    def _empty_like(self):
        return track(defaultdict(self.default_factory))


# CPython derives error messages and defaultdict's repr from the type's name.
for _cls, _name, _module in ((TrackedDict, "dict", "builtins"),
                             (TrackedDefaultDict, "defaultdict", "collections")):
    _cls.__name__ = _name
    _cls.__qualname__ = _name
    _cls.__module__ = _module

# What ``help(d.get)``, ``repr(d.get)`` and ``d.get.__doc__`` show: dict's own.
for _name, _method in vars(_Tracking).items():
    _own = getattr(dict, _name, None)
    if _own is not None and getattr(_method, "__code__", None) is not None:
        _method.__doc__ = _own.__doc__
        _method.__qualname__ = f"dict.{_name}"

_FRESH = (dict, list, set)  # what a defaultdict's factory makes tracked (on a miss)


def track(d):
    """What instrumented code calls on every container it creates: a tracked copy of ``d``.

    ``d`` is always a fresh object (a display, a comprehension, a ``dict(...)``,
    ``list(...)``, ``sorted(...)`` call...), so handing back a different object is
    invisible.  Anything that is not exactly a dict, defaultdict, list or set comes back
    untouched, as does everything while the detector is off, the memory budget has cut
    tracking, or the ``watch`` option leaves its kind out.
    """
    if not (SETTINGS.enabled and SETTINGS.tracking):
        return d
    t = type(d)
    watch = SETTINGS.watch
    if t is dict or t is defaultdict:
        if not watch & WATCH_DICT:
            return d
        result = TrackedDict(d) if t is dict else TrackedDefaultDict(d.default_factory, d)
        settings.add_to("dicts_tracked")
    elif t is list:
        if not watch & WATCH_LIST:
            return d
        result = TrackedList(d)
        settings.add_to("lists_tracked")
    elif t is set:
        if not watch & WATCH_SET:
            return d
        result = TrackedSet(d)
        settings.add_to("sets_tracked")
    else:
        return d
    # Where it was created; the shadow itself is made on first checked use (shadow.py).
    result._rw_shadow = _capture(min(CREATION_STACK_DEPTH, SETTINGS.stack_depth))
    return result


def reading(value):
    """What instrumented code passes to ``set(x)`` and ``frozenset(x)``: ``x`` itself, read.
    They copy a set from its table, past its methods: this is where a tracked set's read
    is recorded."""
    if type(value) is TrackedSet:
        _on_keys_read(value, "copy")
    return value


def maketrans(owner, *args, **kwargs):
    """``owner.maketrans(...)`` with tracked dicts handed over as plain ones:
    ``str.maketrans`` accepts an exact dict only (instrumented code calls this instead)."""
    args = [_plain(a) for a in args]
    return owner.maketrans(*args, **kwargs)


def _plain(value):
    """A plain copy of a tracked container (its items read without recording); anything
    else as it is."""
    t = type(value)
    if t is TrackedDict:
        return dict(_dict_items(value))
    if t is TrackedDefaultDict:
        return defaultdict(value.default_factory, _dict_items(value))
    if t is TrackedList:
        return list(_list_iter(value))
    if t is TrackedSet:
        return set(_set_iter(value))
    return value


def public_type(obj):
    """``type(obj)`` as instrumented code sees it: the tracked types show as the builtins."""
    t = type(obj)
    return PUBLIC_TYPE.get(t, t)


def is_tracked(obj) -> bool:
    return type(obj) in PUBLIC_TYPE


_GLOBALS = globals()

if COMPILED is None:
    # The tracked list and set use the helpers above (a circular import, resolved by order).
    from .tracked_seq import TrackedList, TrackedSet  # noqa: E402
else:
    # The same types in C (racewatch/_core/dict_*.c, list*.c, set*.c): their slots and
    # methods check and then call the builtin's own, with no Python frame in between.
    TrackedDict = COMPILED.TrackedDict
    TrackedDefaultDict = COMPILED.TrackedDefaultDict
    TrackedList = COMPILED.TrackedList
    TrackedSet = COMPILED.TrackedSet
    track = COMPILED.track
    reading = COMPILED.reading
    public_type = COMPILED.public_type
    is_tracked = COMPILED.is_tracked
    _reflected_first = COMPILED.reflected_first

TRACKED_TYPES = (TrackedDict, TrackedDefaultDict, TrackedList, TrackedSet)
PUBLIC_TYPE = {TrackedDict: dict, TrackedDefaultDict: defaultdict, TrackedList: list,
               TrackedSet: set}
stacks.leave_out_frames_of(_GLOBALS)
