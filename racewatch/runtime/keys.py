"""A key as reports show it, made without running any of the program's code.

A race is found inside the program's own dict operation, in the program's thread, with
whatever locks that thread holds.  Calling the key's ``__repr__`` there would run the
program's code where plain python runs none: a ``__repr__`` that takes a lock the thread
holds deadlocks, one that logs or counts changes what the program prints, one that
raises or recurses has to be survived.  So a key is described from what the interpreter
itself can say of it: the repr of the built-in scalars (``str``, ``int``, ``bytes``...),
tuples and frozensets of describable keys (a named tuple with its field names), an enum
member as the enum module shows it, and anything else as ``object.__repr__`` does:
``<module.Class object at 0x...>``.  Types are matched exactly: a subclass of ``str`` may
have a ``__repr__`` of its own.
"""

from __future__ import annotations

import sys

LIMIT = 120       # characters of a description; longer ones are cut
ITEMS = 8         # elements of a tuple or frozenset shown
DEPTH = 4         # tuples within tuples

_SCALARS = frozenset({str, bytes, int, float, complex, bool, type(None), type(...)})
_object_repr = object.__repr__
# A class's own namespace, its bases and its name as C sees them: a metaclass may define
# attribute lookup of its own.
_type_dict = type.__dict__["__dict__"].__get__
_type_mro = type.__dict__["__mro__"].__get__
_type_name = type.__dict__["__name__"].__get__
_instance_attribute = object.__getattribute__
_function = type(lambda: None)


def describe(key) -> str:
    """The key as a report shows it, at most ``LIMIT`` characters."""
    text = _describe(key, DEPTH)
    if len(text) > LIMIT:
        text = text[:LIMIT - 3] + "..."
    return text


def _describe(key, depth: int) -> str:
    cls = type(key)
    if cls in _SCALARS:
        return _scalar(key, cls)
    if depth <= 0:
        return "..."
    if cls is tuple:
        return _items("(", [_describe(k, depth - 1) for k in key[:ITEMS]], len(key),
                      ",)" if len(key) == 1 else ")")
    if cls is frozenset:
        if not key:
            return "frozenset()"
        items = [_describe(k, depth - 1) for k, _ in zip(key, range(ITEMS), strict=False)]
        return _items("frozenset({", items, len(key), "})")
    if tuple in _type_mro(cls):
        named = _named_tuple(key, cls, depth)
        if named is not None:
            return named
    member = _enum_member(key, cls, depth)
    if member is not None:
        return member
    return _object_repr(key)


def _scalar(key, cls) -> str:
    if cls is str or cls is bytes:
        if len(key) > LIMIT:
            return repr(key[:LIMIT - 10]) + "..."
        return repr(key)
    try:
        return repr(key)
    except ValueError:  # an int past sys.get_int_max_str_digits()
        return f"<int of {key.bit_length()} bits>"


def _items(opening: str, items: list[str], total: int, closing: str) -> str:
    if total > len(items):
        items.append("...")
    return opening + ", ".join(items) + closing


def _class_attribute(cls, name: str):
    """``name`` as ``cls`` defines or inherits it, found without the class's own attribute
    lookup (a metaclass may define one)."""
    for base in _type_mro(cls):
        namespace = _type_dict(base)
        if name in namespace:
            return namespace[name]
    return None


def _named_tuple(key, cls, depth: int) -> str | None:
    """A named tuple whose repr is still the one collections.namedtuple wrote."""
    fields = _class_attribute(cls, "_fields")
    representation = _class_attribute(cls, "__repr__")
    if (type(fields) is not tuple or not all(type(f) is str for f in fields)
            or type(representation) is not _function
            or representation.__module__ != "collections"):
        return None
    values = tuple.__iter__(key)
    items = [f"{name}={_describe(value, depth - 1)}"
             for name, value, _ in zip(fields, values, range(ITEMS), strict=False)]
    return _items(f"{_type_name(cls)}(", items, len(fields), ")")


def _enum_member(key, cls, depth: int) -> str | None:
    """An enum member whose repr is still the enum module's own: ``<Color.RED: 1>``."""
    enum = sys.modules.get("enum")
    if enum is None or not any(base is enum.Enum for base in _type_mro(cls)) or \
            _class_attribute(cls, "__repr__") is not enum.Enum.__repr__:
        return None
    try:
        namespace = _instance_attribute(key, "__dict__")
    except AttributeError:
        return None
    if type(namespace) is not dict:
        return None
    name, value = namespace.get("_name_"), namespace.get("_value_")
    if type(name) is not str:
        return None
    return f"<{_type_name(cls)}.{name}: {_describe(value, depth - 1)}>"
