"""Code that insists on an exact dict, taught to take a tracked one.

A tracked object is an instance of a subclass of the builtin it stands for, and
``tracked.PUBLIC_TYPE`` maps each tracked type to that builtin: every shim here is driven by
that table, so a tracked type added to it is taken in with no change here.  Code that
looks at the exact type refuses a tracked object, or treats it as some other object (PyYAML
writes ``!!python/object/new:builtins.dict``).  There are two ways around it, and each shim
takes the one that fits the code:

* a dispatch table keyed by type gets, for each tracked type, the entry of the builtin it
  stands for (``mirror``), now and whenever the builtin's entry changes: ``xmlrpc.client``'s
  marshaller, ``sqlite3``'s adapters, the representers of PyYAML (its C dumpers use the
  same) and of ruamel.yaml;
* a function that accepts the exact type only is handed a plain copy (``plain_deep``):
  ``marshal.dumps``/``dump``, msgpack's ``Packer`` with ``strict_types=True`` (``packb`` and
  ``pack`` make one; the pure-Python ``msgpack.fallback.Packer`` too), orjson's ``dumps``
  with ``OPT_PASSTHROUGH_SUBCLASS``.  ``str.maketrans``
  is a method of ``str``, which cannot be patched: the rewrite turns ``X.maketrans(...)``
  calls into ``tracked.maketrans(X, ...)`` (transform.py).

Everything else that serializes a dict (json, pickle, plistlib, simplejson, ujson, orjson
without that option, msgpack without ``strict_types``, tomli-w, cbor2, msgspec) takes a
dict subclass as a dict already.  A shim for a module the program has not imported yet is
applied right after it imports it (``Patcher.when_imported``), so racewatch imports none of
these modules itself.
"""

from __future__ import annotations

import sys

from ..runtime import stacks, tracked
from ..runtime.shadow import on_read_all
from ..runtime.tracebacks import hide_racewatch_frames

_DICT_TYPES = (tracked.TrackedDict, tracked.TrackedDefaultDict)
_CONTAINERS = (dict, list, tuple, set, frozenset)


# -- the two mechanisms --------------------------------------------------------------------


def mirror(table: dict, patcher) -> None:
    """Give each tracked type, in a dispatch table keyed by type, the entry of the builtin
    it stands for."""
    for tracked_type, public in tracked.PUBLIC_TYPE.items():
        if public in table and tracked_type not in table:
            patcher.set_item(table, tracked_type, table[public])


def _plain_copy(value):
    """A plain copy of a tracked object; a dict's copy counts as a read of every key, as
    pickling it does."""
    if type(value) in _DICT_TYPES:
        on_read_all(value, "reduce")
        return tracked._plain(value)
    return tracked.PUBLIC_TYPE[type(value)](value)  # a tracked type's own iteration records it


def _holds_tracked(value, seen: set) -> bool:
    t = type(value)
    if t in tracked.PUBLIC_TYPE:
        return True
    if t not in _CONTAINERS or id(value) in seen:
        return False
    seen.add(id(value))
    return any(_holds_tracked(item, seen) for item in (value.values() if t is dict else value))


def _copied(value, memo: dict):
    """``value`` with the builtin containers in it copied and the tracked objects made plain.
    A mutable copy is remembered before it is filled, so that shared and recursive
    structures stay so (a cycle always runs through a mutable object)."""
    t = type(value)
    done = memo.get(id(value))
    if done is not None:
        return done
    if t in tracked.PUBLIC_TYPE:
        copy = _plain_copy(value)
        memo[id(value)] = copy
        t = type(copy)
    elif t is dict:
        copy = memo[id(value)] = dict(value)
    elif t is list or t is set:
        memo[id(value)] = copy = t()
        items = [_copied(item, memo) for item in value]
        if t is list:
            copy.extend(items)
        else:
            copy.update(items)
        return copy
    elif t is tuple or t is frozenset:
        return t(_copied(item, memo) for item in value)
    else:
        return value
    if isinstance(copy, dict):
        for key, item in copy.items():
            copy[key] = _copied(item, memo)  # values only: the keys stay as they are
    elif isinstance(copy, list):
        copy[:] = [_copied(item, memo) for item in copy]
    return copy


def plain_deep(value):
    """``value`` with every tracked object in it, at any depth, made plain (shared objects
    stay shared); ``value`` itself, nothing copied, when it holds none.  Past the recursion
    limit ``value`` is handed over as it is, for the library to say what it says."""
    try:
        if not _holds_tracked(value, set()):
            return value
        return _copied(value, {})
    except RecursionError:
        return value


# -- the standard library ------------------------------------------------------------------


def _shim_marshal(module, patcher) -> None:
    dumps, dump = module.dumps, module.dump

    def marshal_dumps(value, *args, **kwargs):
        try:
            return dumps(plain_deep(value), *args, **kwargs)
        except BaseException as exc:
            hide_racewatch_frames(exc)
            raise

    def marshal_dump(value, file, *args, **kwargs):
        try:
            return dump(plain_deep(value), file, *args, **kwargs)
        except BaseException as exc:
            hide_racewatch_frames(exc)
            raise

    marshal_dumps.__doc__, marshal_dump.__doc__ = dumps.__doc__, dump.__doc__
    patcher.replace(module, "dumps", marshal_dumps)
    patcher.replace(module, "dump", marshal_dump)


def _shim_xmlrpc(module, patcher) -> None:
    mirror(module.Marshaller.dispatch, patcher)


def _shim_sqlite3(module, patcher) -> None:
    """Adapters registered for a builtin, now and later, serve its tracked type."""
    original = module.register_adapter
    adapters = getattr(module, "adapters", {})
    protocol = getattr(module, "PrepareProtocol", None)
    for tracked_type, public in tracked.PUBLIC_TYPE.items():
        key = (public, protocol)
        if key in adapters:
            patcher.set_item(adapters, (tracked_type, protocol), adapters[key])

    def register_adapter(type_, adapter, /):
        original(type_, adapter)
        for tracked_type, public in tracked.PUBLIC_TYPE.items():
            if type_ is public:
                original(tracked_type, adapter)

    register_adapter.__doc__ = original.__doc__
    for name in ("sqlite3", "sqlite3.dbapi2"):
        owner = sys.modules.get(name)
        if owner is not None and getattr(owner, "register_adapter", None) is original:
            patcher.replace(owner, "register_adapter", register_adapter)


# -- libraries ---------------------------------------------------------------------------------


def _shim_yaml_representers(module, patcher) -> None:
    """PyYAML and ruamel.yaml look a representer up by ``type(data)`` first: every
    representer class's table gets the tracked types, and so does a registration made later
    for a builtin (``add_representer`` copies the table into the class it is called on).
    The multi-representers need nothing: they are looked up along the MRO, where the
    builtin is."""
    base = module.BaseRepresenter
    classes, pending = [], [base]
    while pending:
        cls = pending.pop()
        classes.append(cls)
        pending.extend(cls.__subclasses__())
    for cls in classes:
        table = vars(cls).get("yaml_representers")
        if isinstance(table, dict):
            mirror(table, patcher)
    add = vars(base)["add_representer"].__func__

    def add_representer(cls, data_type, representer):
        add(cls, data_type, representer)
        for tracked_type, public in tracked.PUBLIC_TYPE.items():
            if data_type is public:
                add(cls, tracked_type, representer)

    add_representer.__doc__ = add.__doc__
    patcher.replace(base, "add_representer", classmethod(add_representer))


def _shim_msgpack(module, patcher) -> None:
    """``strict_types=True`` makes msgpack's Packer (C or pure) take exact types only:
    a Packer made so is handed plain copies.  ``packb`` and ``pack`` look ``Packer`` up in
    the module when they are called."""
    base = module.Packer

    class Packer(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._racewatch_strict = bool(kwargs.get("strict_types", False))

        def pack(self, obj):
            if self._racewatch_strict:
                obj = plain_deep(obj)
            try:
                return super().pack(obj)
            except BaseException as exc:
                hide_racewatch_frames(exc)
                raise

    Packer.__name__, Packer.__qualname__ = base.__name__, base.__qualname__
    Packer.__module__, Packer.__doc__ = base.__module__, base.__doc__
    patcher.replace(module, "Packer", Packer)


def _shim_orjson(module, patcher) -> None:
    """``OPT_PASSTHROUGH_SUBCLASS`` hands dict subclasses to ``default``: with that option,
    orjson's ``dumps`` is handed plain copies."""
    dumps, passthrough = module.dumps, module.OPT_PASSTHROUGH_SUBCLASS

    def orjson_dumps(obj, /, *args, **kwargs):
        option = kwargs.get("option", args[1] if len(args) > 1 else None)
        if isinstance(option, int) and option & passthrough:
            obj = plain_deep(obj)
        try:
            return dumps(obj, *args, **kwargs)
        except BaseException as exc:
            hide_racewatch_frames(exc)
            raise

    orjson_dumps.__name__, orjson_dumps.__qualname__ = dumps.__name__, dumps.__qualname__
    orjson_dumps.__doc__ = dumps.__doc__
    patcher.replace(module, "dumps", orjson_dumps)


SHIMS = {
    "marshal": _shim_marshal,
    "xmlrpc.client": _shim_xmlrpc,
    "sqlite3": _shim_sqlite3,
    "yaml.representer": _shim_yaml_representers,
    "ruamel.yaml.representer": _shim_yaml_representers,
    "msgpack": _shim_msgpack,
    "msgpack.fallback": _shim_msgpack,
    "orjson": _shim_orjson,
}


def install(patcher) -> None:
    for name, shim in SHIMS.items():
        patcher.when_imported(name, shim)


stacks.leave_out_frames_of(globals())
