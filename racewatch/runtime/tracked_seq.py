"""The tracked ``list`` and ``set`` that instrumented code creates (the dicts: tracked.py).

Each method tells the shadow what it reads and writes (README, "What counts as a race"),
then does what the base method does; what a program can observe is kept as tracked.py
keeps it for dicts (the names, ``__class__``, the ``__repr__`` descriptor, hidden frames).

A list's locations are its indexes and its ``items`` (size and order: the shadow's keys
location); a set's, its elements and its ``members``.  An index is read as the position
the base method uses: ``l[-1]`` reads the last item and ``items`` (where that is depends
on the length), and an index out of range reads ``items`` only (the error depends on the
length).  Appends, inserts, pops and removals *update* ``items`` (two appends commute) and
write the position they change; what rewrites the whole list (``sort``, slice
assignment...) writes everything.  A set's ``add``, ``discard``, ``remove`` and ``pop``
write their element and, when membership changes, update ``members``; what reads the
whole set reads ``members`` (a set has no values: its members are all there is to read).

An operation that records several locations (a position and ``items``, the elements of
an in-place union...) first enters the engine once, to learn whether the access is
checked at all, as the compiled core does: in a single thread it records nothing more,
and both cores count the same accesses.

Pickling gives a plain list or set; ``copy``/``deepcopy`` give tracked copies, through
copy's dispatch tables (no ``__copy__`` that a list lacks).
"""

from __future__ import annotations

import _thread
import copy
import copyreg
import operator

from . import forks, shadow, stacks
from .core import COMPILED
from .tracked import _hide_frame, _reflected_first, _TrackedRepr, track

_on_read = shadow.on_read
_on_write = shadow.on_write
_on_keys_read = shadow.on_keys_read
_on_read_all = shadow.on_read_all
_on_clear = shadow.on_clear
_enter = shadow._enter
_write = shadow.write
_operator_index = operator.index

_list_len = list.__len__
_list_iter = list.__iter__
_list_getitem = list.__getitem__
_list_setitem = list.__setitem__
_list_delitem = list.__delitem__
_list_append = list.append
_list_extend = list.extend
_list_insert = list.insert
_list_pop = list.pop
_list_remove = list.remove
_list_repr = list.__repr__

_set_len = set.__len__
_set_iter = set.__iter__
_set_contains = set.__contains__
_set_add = set.add
_set_discard = set.discard
_set_remove = set.remove
_set_pop = set.pop
_set_clear = set.clear


def _as_index(index):
    """``index`` as the int a list method uses, or None when it is no index (the base
    method then raises its own TypeError).  ``__index__`` runs here, once: the base method
    gets the int."""
    t = type(index)
    if t is int:
        return index
    if hasattr(t, "__index__"):
        return _operator_index(index)
    return None


def _checked(container) -> bool:
    """Whether an access to ``container`` is checked now (one entry into the engine)."""
    return _enter(container) is not None


def _read_item(lst, i: int, op: str) -> None:
    """The read of position ``i`` as the base method finds it."""
    if not _checked(lst):
        return
    n = _list_len(lst)
    if i < 0:
        _on_keys_read(lst, op)   # where -1 is depends on the length
        i += n
        if i < 0:
            return
    if i < n:
        _on_read(lst, i, op)
    else:
        _on_keys_read(lst, op)   # IndexError: the length decides


def _write_item(lst, i: int, op: str, update: bool) -> None:
    """The write of position ``i`` (an update of ``items`` too when ``update``)."""
    if not _checked(lst):
        return
    n = _list_len(lst)
    if i < 0:
        _on_keys_read(lst, op)
        i += n
        if i < 0:
            return
    if i < n:
        _on_write(lst, i, op, update)
    else:
        _on_keys_read(lst, op)


def _write_grown(lst, before: int, op: str) -> None:
    """After an operation that wrote everything and grew the list: its new positions."""
    if _list_len(lst) > before and _checked(lst):
        for i in range(before, _list_len(lst)):
            _on_write(lst, i, op, False)


# Stripes of locks under which an append reads the length and grows the list (see
# ``_grow_at_end``); a list's stripe comes from its address, as in the compiled core.
# Re-entrant, as racewatch's other locks (forks.lock): a signal handler can run between
# the two steps and append to a list of the same stripe; and made anew in a forked child.
_GROW_STRIPES = 64
_grow_locks = [forks.lock() for _ in range(_GROW_STRIPES)]


def _grow_at_end(lst, operand, op: str, grow, in_list_code: bool) -> None:
    """An update of ``items`` that writes the position after the last (append, extend,
    +=): ``grow(lst, operand)`` does it, and the position recorded is the one it got.

    Two threads that read the length and then append could both see the same length (a
    thread switch between the two, or no GIL at all) and record the same position: a
    write/write race between two appends, which commute.  The length is read and the list
    grown under one lock, and the access recorded after.  Only for an operation that runs
    no code but list's own (``in_list_code``: an append, an exact list or tuple as the
    operand); for any other the length is read first, and the program's code runs under
    no lock of racewatch's.
    """
    entered = _enter(lst)
    if entered is None:
        grow(lst, operand)
    elif not in_list_code:
        _write(*entered, lst, _list_len(lst), op, True)
        grow(lst, operand)
    else:
        with _grow_locks[(id(lst) >> 4) % _GROW_STRIPES]:
            n = _list_len(lst)
            grow(lst, operand)
        _write(*entered, lst, n, op, True)


def _grown_by(lst, other, op: str) -> None:
    """extend and +=: ``other``'s items as list's own code reads them.  Another tracked
    list is read now (list's code would iterate it, recording that read) and its items
    handed on as a plain list, so that the growth runs no code but list's own."""
    if type(other) is TrackedList and other is not lst:
        _on_read_all(other, "iter")
        other = _list_getitem(other, _ALL)
    in_list_code = type(other) in (list, tuple) or other is lst
    _grow_at_end(lst, other, op, _list_extend, in_list_code)


_ALL = slice(None)


def _read_list(other, op: str) -> None:
    """The other operand of a list comparison or ``+``, read as a whole when it is a
    tracked list (list's own reads it past its methods)."""
    if type(other) is TrackedList:
        _on_read_all(other, op)


def _read_set(other, op: str) -> None:
    """The other operand of set algebra, its members read when it is a tracked set (set's
    own reads its table past its methods; a tracked list or dict records its own read as
    it is iterated)."""
    if type(other) is TrackedSet:
        _on_keys_read(other, op)


def _track_list(result):
    return track(result) if type(result) is list else result


def _track_set(result):
    return track(result) if type(result) is set else result


class TrackedList(list):
    __slots__ = ("_rw_shadow",)
    __repr__ = _TrackedRepr(_list_repr)
    __hash__ = None

    @property
    def __class__(self):
        return list

    # -- one item -------------------------------------------------------------------------

    def __getitem__(self, index, /):
        try:
            if type(index) is slice:
                _on_read_all(self, "slice")
                return _track_list(_list_getitem(self, index))
            i = _as_index(index)
            if i is None:
                return _list_getitem(self, index)
            _read_item(self, i, "getitem")
            return _list_getitem(self, i)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def __setitem__(self, index, value, /):
        try:
            if type(index) is slice:
                before = _list_len(self)
                _on_clear(self, "setslice")
                _list_setitem(self, index, value)
                _write_grown(self, before, "setslice")
                return
            i = _as_index(index)
            if i is None:
                return _list_setitem(self, index, value)
            _write_item(self, i, "setitem", False)
            _list_setitem(self, i, value)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def __delitem__(self, index, /):
        try:
            if type(index) is slice:
                _on_clear(self, "delslice")
                return _list_delitem(self, index)
            i = _as_index(index)
            if i is None:
                return _list_delitem(self, index)
            _write_item(self, i, "delitem", True)
            _list_delitem(self, i)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    # -- updates of items -----------------------------------------------------------------

    def append(self, obj, /):
        _grow_at_end(self, obj, "append", _list_append, True)

    def extend(self, iterable, /):
        try:
            _grown_by(self, iterable, "extend")
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def __iadd__(self, other, /):
        try:
            _grown_by(self, other, "iadd")
        except BaseException as exc:
            _hide_frame(exc)
            raise
        return self

    def insert(self, index, obj, /):
        try:
            i = _operator_index(index)
            if _checked(self):
                n = _list_len(self)
                if i < 0:
                    _on_keys_read(self, "insert")
                    where = max(i + n, 0)
                else:
                    where = min(i, n)
                _on_write(self, where, "insert", True)
            _list_insert(self, i, obj)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def pop(self, *args):
        try:
            if len(args) > 1:
                return _list_pop(self, *args)   # its own TypeError
            i = _operator_index(args[0]) if args else -1
            if not _list_len(self):
                _on_keys_read(self, "pop")      # IndexError: pop from empty list
            else:
                _write_item(self, i, "pop", True)
            return _list_pop(self, i)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def remove(self, value, /):
        # A search (a read of every item, as index()), then the delete of what it found:
        # the comparisons are list.remove's own, in its order, each made once.
        try:
            if not _checked(self):
                return _list_remove(self, value)
            _on_read_all(self, "remove")
            for i, item in enumerate(_list_iter(self)):
                if item is value or item == value:
                    _on_write(self, i, "remove", True)
                    _list_delitem(self, i)
                    return
            raise ValueError("list.remove(x): x not in list")
        except BaseException as exc:
            _hide_frame(exc)
            raise

    # -- items, and every item ------------------------------------------------------------

    def __len__(self):
        _on_keys_read(self, "len")
        return _list_len(self)

    def __iter__(self):
        _on_read_all(self, "iter")
        return _list_iter(self)

    def __reversed__(self):
        _on_read_all(self, "reversed")
        return list.__reversed__(self)

    def __contains__(self, value, /):
        _on_read_all(self, "contains")
        try:
            return list.__contains__(self, value)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def index(self, *args):
        _on_read_all(self, "index")
        try:
            return list.index(self, *args)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def count(self, value, /):
        _on_read_all(self, "count")
        try:
            return list.count(self, value)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def copy(self):
        _on_read_all(self, "copy")
        return track(list.copy(self))

    def __add__(self, other, /):
        _on_read_all(self, "add")
        _read_list(other, "add")
        try:
            return _track_list(list.__add__(self, other))
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def __mul__(self, n, /):
        if not hasattr(type(n), "__index__"):
            return NotImplemented   # Python's own "can't multiply sequence by non-int"
        _on_read_all(self, "mul")
        try:
            return _track_list(list.__mul__(self, n))
        except BaseException as exc:
            _hide_frame(exc)
            raise

    __rmul__ = __mul__

    def __reduce_ex__(self, protocol, /):
        # A plain list in the pickle (loading it never needs racewatch), as a list
        # subclass reduces: copyreg.__newobj__ from protocol 2 on.
        _on_read_all(self, "reduce")
        if protocol >= 2:
            return (copyreg.__newobj__, (list,), None, _list_iter(self), None)
        return (list, (), None, _list_iter(self), None)

    # -- everything written ---------------------------------------------------------------

    def clear(self):
        _on_clear(self, "clear")
        list.clear(self)

    def reverse(self):
        _on_clear(self, "reverse")
        list.reverse(self)

    def sort(self, *args, **kwargs):
        try:
            _on_clear(self, "sort")
            list.sort(self, *args, **kwargs)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def __imul__(self, n, /):
        try:
            if not hasattr(type(n), "__index__"):
                return list.__imul__(self, n)   # its own TypeError
            before = _list_len(self)
            _on_clear(self, "imul")
            list.__imul__(self, n)
            _write_grown(self, before, "imul")
        except BaseException as exc:
            _hide_frame(exc)
            raise
        return self


def _list_comparison(name: str, reflected: str, op: str):
    base = getattr(list, name)

    def compare(self, other, /):
        result = _reflected_first(self, other, reflected)
        if result is not NotImplemented:
            return result
        _on_read_all(self, op)
        _read_list(other, op)
        try:
            return base(self, other)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    compare.__name__ = name
    return compare


# -- the set -----------------------------------------------------------------------------


def _element(value):
    """The element ``value in s`` looks up: a set as the frozenset it stands for."""
    if isinstance(value, set) and type(value).__hash__ is None:
        return frozenset(_set_iter(value))
    return value


def _materialized(other):
    """``other`` as a set operation may iterate it twice (recording, then the operation):
    sets and dicts as they are, anything else consumed once into a list."""
    if isinstance(other, (set, frozenset, dict)):
        return other
    return list(other)


def _present(s, e, removal: bool):
    """(whether ``e`` is in ``s``, the key of its location), as the operation looks it up
    (a removal looks an unhashable set up as its frozenset); None for an element the
    operation refuses: it raises the TypeError itself, after the elements before it."""
    if isinstance(e, set) and type(e).__hash__ is None:
        if not removal:
            return None
        e = frozenset(_set_iter(e))
    try:
        return _set_contains(s, e), e
    except TypeError:
        return None


def _record_adds(s, elements, op: str) -> None:
    """Each element's write, an update of ``members`` when it is new."""
    for e in elements:
        found = _present(s, e, False)
        if found is None:
            return
        _on_write(s, e, op, not found[0])


def _record_removes(s, elements, op: str) -> None:
    """A removal's write for each element present (and an update), a read for the others."""
    for e in elements:
        found = _present(s, e, True)
        if found is None:
            return
        if found[0]:
            _on_write(s, found[1], op, True)
        else:
            _on_read(s, found[1], op)


def _record_toggles(s, elements, op: str) -> None:
    """symmetric_difference_update: each element goes in or out, a write and an update."""
    for e in elements:
        if _present(s, e, False) is None:
            return
        _on_write(s, e, op, True)


_repr_running: set = set()   # (id, thread) of the sets whose repr is being made


def _set_repr(self):
    """repr(s) as for an exact set (set's own says ``set({...})`` for a subclass)."""
    _on_keys_read(self, "repr")
    key = (id(self), _thread.get_ident())
    if key in _repr_running:
        return "set(...)"
    if not _set_len(self):
        return "set()"
    _repr_running.add(key)
    try:
        text = repr(list(_set_iter(self)))
    except BaseException as exc:
        _hide_frame(exc)
        raise
    finally:
        _repr_running.discard(key)
    return "{" + text[1:-1] + "}"


class TrackedSet(set):
    __slots__ = ("_rw_shadow",)
    __repr__ = _TrackedRepr(set.__repr__, _set_repr)
    __hash__ = None

    @property
    def __class__(self):
        return set

    # -- one element ----------------------------------------------------------------------

    def __contains__(self, value, /):
        _on_read(self, _element(value), "contains")
        try:
            return _set_contains(self, value)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def add(self, value, /):
        try:
            _on_write(self, value, "add", not _set_contains(self, value))
            _set_add(self, value)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def discard(self, value, /):
        try:
            _record_removes(self, (value,), "discard")
            _set_discard(self, value)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def remove(self, value, /):
        try:
            _record_removes(self, (value,), "remove")
            _set_remove(self, value)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def pop(self):
        try:
            value = _set_pop(self)
        except BaseException as exc:
            _on_keys_read(self, "pop")
            _hide_frame(exc)
            raise
        # Which element it takes depends on the members: a read of them, then the removal.
        _on_keys_read(self, "pop")
        _on_write(self, value, "pop", True)
        return value

    def clear(self):
        _on_clear(self, "clear")
        _set_clear(self)

    # -- in-place algebra: one update per element it adds or removes ----------------------

    def update(self, *others):
        try:
            _in_place(self, others, "update", _record_adds, set.update)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def difference_update(self, *others):
        try:
            _in_place(self, others, "difference_update", _record_removes,
                      set.difference_update)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def intersection_update(self, *others):
        try:
            _in_place(self, others, "intersection_update", None, set.intersection_update)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def symmetric_difference_update(self, other, /):
        try:
            _in_place(self, (other,), "symmetric_difference_update", _record_toggles,
                      set.symmetric_difference_update)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def __ior__(self, other, /):
        try:
            return _in_place_operator(self, other, "ior", _record_adds, set.__ior__)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def __isub__(self, other, /):
        try:
            return _in_place_operator(self, other, "isub", _record_removes, set.__isub__)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def __iand__(self, other, /):
        try:
            return _in_place_operator(self, other, "iand", None, set.__iand__)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    def __ixor__(self, other, /):
        try:
            return _in_place_operator(self, other, "ixor", _record_toggles, set.__ixor__)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    # -- the members ----------------------------------------------------------------------

    def __len__(self):
        _on_keys_read(self, "len")
        return _set_len(self)

    def __iter__(self):
        _on_keys_read(self, "iter")
        return _set_iter(self)

    def copy(self):
        _on_keys_read(self, "copy")
        return track(set.copy(self))

    def __reduce__(self):
        # As set's own reduce of an exact set: a plain set in the pickle.
        _on_keys_read(self, "reduce")
        return (set, (list(_set_iter(self)),), None)


def _record_kept(s, kept, op: str) -> None:
    """intersection_update: a removal for each element not in ``kept``."""
    for e in set.difference(s, kept):
        _on_write(s, e, op, True)


def _in_place(s, others, op: str, record, base) -> None:
    """update, difference_update...: each element recorded, for a checked access, before
    the builtin's method does its work (``record`` None: intersection_update)."""
    for o in others:
        _read_set(o, op)
    if _checked(s):
        others = [_materialized(o) for o in others]
        if record is None:
            _record_kept(s, set.intersection(s, *others), op)
        else:
            for o in others:
                record(s, o, op)
    base(s, *others)


def _in_place_operator(s, other, op: str, record, base):
    """|=, -=, &=, ^=: sets only (else NotImplemented, as set's own)."""
    if not isinstance(other, (set, frozenset)):
        return NotImplemented
    _read_set(other, op)
    if _checked(s):
        if record is None:
            _record_kept(s, set.intersection(s, other), op)
        else:
            record(s, other, op)
    base(s, other)
    return s


def _set_algebra(name: str, op: str):
    """union, intersection...: a read of every operand's members, a tracked result."""
    base = getattr(set, name)

    def algebra(self, *others):
        _on_keys_read(self, op)
        for o in others:
            _read_set(o, op)
        try:
            return _track_set(base(self, *others))
        except BaseException as exc:
            _hide_frame(exc)
            raise

    algebra.__name__ = name
    return algebra


def _set_test(name: str):
    """issubset, issuperset, isdisjoint: a read of both operands' members."""
    base = getattr(set, name)

    def test(self, other, /):
        _on_keys_read(self, name)
        _read_set(other, name)
        try:
            return base(self, other)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    test.__name__ = name
    return test


def _set_operator(name: str, reflected: str, op: str, swapped: bool = False):
    """``|``, ``&``, ``-``, ``^`` and their reflections: sets only, a tracked result."""
    forward = name.replace("__r", "__", 1) if swapped else name

    def operator_(self, other, /):
        if not isinstance(other, (set, frozenset)):
            return NotImplemented
        if not swapped:
            result = _reflected_first(self, other, reflected)
            if result is not NotImplemented:
                return result
        _on_keys_read(self, op)
        _read_set(other, op)
        try:
            if swapped:   # ``other OP self``: the left operand's own method
                owner = frozenset if isinstance(other, frozenset) else set
                return _track_set(getattr(owner, forward)(other, self))
            return _track_set(getattr(set, forward)(self, other))
        except BaseException as exc:
            _hide_frame(exc)
            raise

    operator_.__name__ = name
    return operator_


def _set_comparison(name: str, reflected: str, op: str):
    base = getattr(set, name)

    def compare(self, other, /):
        result = _reflected_first(self, other, reflected)
        if result is not NotImplemented:
            return result
        _on_keys_read(self, op)
        _read_set(other, op)
        try:
            return base(self, other)
        except BaseException as exc:
            _hide_frame(exc)
            raise

    compare.__name__ = name
    return compare


_COMPARISONS = (("__eq__", "__eq__", "eq"), ("__ne__", "__ne__", "ne"),
                ("__lt__", "__gt__", "compare"), ("__le__", "__ge__", "compare"),
                ("__gt__", "__lt__", "compare"), ("__ge__", "__le__", "compare"))
for _name, _reflected, _op in _COMPARISONS:
    setattr(TrackedList, _name, _list_comparison(_name, _reflected, _op))
    setattr(TrackedSet, _name, _set_comparison(_name, _reflected, _op))
for _name in ("union", "intersection", "difference", "symmetric_difference"):
    setattr(TrackedSet, _name, _set_algebra(_name, _name))
for _name in ("issubset", "issuperset", "isdisjoint"):
    setattr(TrackedSet, _name, _set_test(_name))
for _name, _op in (("or", "or"), ("and", "and"), ("sub", "sub"), ("xor", "xor")):
    setattr(TrackedSet, f"__{_name}__", _set_operator(f"__{_name}__", f"__r{_name}__", _op))
    setattr(TrackedSet, f"__r{_name}__",
            _set_operator(f"__r{_name}__", f"__{_name}__", _op, swapped=True))

# CPython builds error messages from the type's name; help() and reprs show the builtin's.
for _cls, _public in ((TrackedList, list), (TrackedSet, set)):
    _cls.__name__ = _cls.__qualname__ = _public.__name__
    _cls.__module__ = "builtins"
    for _name, _method in vars(_cls).items():
        _own = getattr(_public, _name, None)
        if _own is not None and getattr(_method, "__code__", None) is not None:
            _method.__doc__ = _own.__doc__
            _method.__qualname__ = f"{_public.__name__}.{_name}"


def _copy_tracked(x):
    return x.copy()


def _deepcopy_list(x, memo, deepcopy=copy.deepcopy):
    # As copy's list copier, into a tracked list.
    _on_read_all(x, "deepcopy")
    y = track([])
    memo[id(x)] = y
    for a in _list_iter(x):
        _list_append(y, deepcopy(a, memo))
    return y


def _deepcopy_set(x, memo, deepcopy=copy.deepcopy):
    # As copy reconstructs a set from its reduce (the elements first), into a tracked set.
    _on_keys_read(x, "deepcopy")
    return track(set(deepcopy(list(_set_iter(x)), memo)))


if COMPILED is None:
    copy._copy_dispatch[TrackedList] = copy._copy_dispatch[TrackedSet] = _copy_tracked
    copy._deepcopy_dispatch[TrackedList] = _deepcopy_list
    copy._deepcopy_dispatch[TrackedSet] = _deepcopy_set

stacks.leave_out_frames_of(globals())
