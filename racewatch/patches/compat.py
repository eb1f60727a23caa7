"""Standard-library code that insists on an exact dict, list or set, taught to take a
tracked one.

A tracked container is a subclass of its builtin; C code that checks ``PyDict_CheckExact``
(``PyList_CheckExact``...) or looks a type up in a table refuses it.  The known cases:

* ``marshal.dumps``/``marshal.dump``: tracked containers are handed over as plain copies;
* ``xmlrpc.client``: its marshaller dispatches on ``type(value)``;
* ``sqlite3``: adapters are looked up by exact type, so an adapter registered for ``dict``
  (or ``defaultdict``, ``list``, ``set``) is registered for the tracked type too;
* ``str.maketrans`` is a method of ``str``, which cannot be patched: the rewrite turns
  ``X.maketrans(...)`` calls into ``tracked.maketrans(X, ...)`` (transform.py).

A shim for a module the program has not imported yet is applied right after it imports
it (``Patcher.when_imported``), so racewatch imports none of these modules itself.
"""

from __future__ import annotations

import sys
from collections import defaultdict

from ..runtime import stacks
from ..runtime.tracked import TrackedDefaultDict, TrackedDict, TrackedList, TrackedSet, _plain

_PUBLIC = {TrackedDict: dict, TrackedDefaultDict: defaultdict, TrackedList: list,
           TrackedSet: set}
_CONTAINERS = (list, tuple, set, frozenset)


def plain_deep(value):
    """``value`` with every tracked container in it, at any depth, made plain; ``value``
    itself (nothing copied) when it holds none."""
    t = type(value)
    if t in _PUBLIC:
        plain = _plain(value)
        if isinstance(plain, dict):
            for key, item in plain.items():
                plain[key] = plain_deep(item)
            return plain
        return type(plain)(plain_deep(v) for v in plain)
    if t in _CONTAINERS:
        items = [plain_deep(v) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return t(items)
    if t is dict:
        changed = {k: plain_deep(v) for k, v in value.items()}
        if all(changed[k] is v for k, v in value.items()):
            return value
        return changed
    return value


# -- the shims -------------------------------------------------------------------------------


def _shim_marshal(module, patcher) -> None:
    dumps, dump = module.dumps, module.dump

    def marshal_dumps(value, *args, **kwargs):
        return dumps(plain_deep(value), *args, **kwargs)

    def marshal_dump(value, file, *args, **kwargs):
        return dump(plain_deep(value), file, *args, **kwargs)

    marshal_dumps.__doc__, marshal_dump.__doc__ = dumps.__doc__, dump.__doc__
    patcher.replace(module, "dumps", marshal_dumps)
    patcher.replace(module, "dump", marshal_dump)


def _shim_xmlrpc(module, patcher) -> None:
    dispatch = module.Marshaller.dispatch
    for tracked, public in _PUBLIC.items():
        if public in dispatch:
            patcher.set_item(dispatch, tracked, dispatch[public])


def _shim_sqlite3(module, patcher) -> None:
    """Adapters registered for a builtin, now and later, serve its tracked type."""
    original = module.register_adapter
    adapters = getattr(module, "adapters", {})
    protocol = getattr(module, "PrepareProtocol", None)
    for tracked, public in _PUBLIC.items():
        key = (public, protocol)
        if key in adapters:
            patcher.set_item(adapters, (tracked, protocol), adapters[key])

    def register_adapter(type_, adapter, /):
        original(type_, adapter)
        for tracked, public in _PUBLIC.items():
            if type_ is public:
                original(tracked, adapter)

    register_adapter.__doc__ = original.__doc__
    for name in ("sqlite3", "sqlite3.dbapi2"):
        owner = sys.modules.get(name)
        if owner is not None and getattr(owner, "register_adapter", None) is original:
            patcher.replace(owner, "register_adapter", register_adapter)


SHIMS = {"marshal": _shim_marshal, "xmlrpc.client": _shim_xmlrpc, "sqlite3": _shim_sqlite3}


def install(patcher) -> None:
    for name, shim in SHIMS.items():
        patcher.when_imported(name, shim)


stacks.leave_out_frames_of(globals())
