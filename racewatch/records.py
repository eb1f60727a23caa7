"""Plain record classes: the part of ``dataclasses`` that racewatch's reports and options use.

``import dataclasses`` costs 6.6 ms on Python 3.11, and each dataclass compiles its
methods from source when its module is imported: as dataclasses, the report model, the
options and the suppressions made every watched process start 6 ms later (an empty script
under ``racewatch run``: 49.7 ms against 43.5 ms with records).  ``record`` makes the
same methods from closures: ``__init__`` (fields in order, a default or a
``field(default_factory=...)`` for the later ones), ``__repr__``, ``__eq__`` over the
fields whose ``compare`` holds, and, with ``frozen=True``, a ``__setattr__`` and
``__delattr__`` that refuse and a ``__hash__`` over the compared fields (without it, as
a dataclass with ``eq``, the instances are unhashable).  ``fields``, ``replace`` and
``asdict`` work as their ``dataclasses`` namesakes do on these classes.

The fields are the names the class itself annotates, in order (no inheritance of fields:
no record derives from another).
"""

from __future__ import annotations

_MISSING = object()


class Field:
    """One field of a record: its name, its default or default factory, and whether
    ``__eq__`` and ``__hash__`` look at it."""

    __slots__ = ("name", "default", "default_factory", "compare")

    def __init__(self, default=_MISSING, default_factory=_MISSING, compare=True):
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.compare = compare

    def __repr__(self):
        return f"Field(name={self.name!r})"


def field(*, default=_MISSING, default_factory=_MISSING, compare: bool = True) -> Field:
    """A field's default (``default_factory``: called for each instance) and whether it is
    compared, for a record's class body: ``tests: list[str] = field(default_factory=list)``."""
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("a field has a default or a default factory, not both")
    return Field(default, default_factory, compare)


class FrozenInstanceError(AttributeError):
    """An attribute of a frozen record was assigned or deleted."""


def record(cls=None, *, frozen: bool = False):
    """Give ``cls`` (as ``@record`` or ``@record(frozen=True)``) the methods of a record."""
    if cls is None:
        return lambda c: _make(c, frozen)
    return _make(cls, frozen)


def _make(cls, frozen: bool):
    fields_ = []
    for name in cls.__dict__.get("__annotations__", {}):
        value = cls.__dict__.get(name, _MISSING)
        if isinstance(value, Field):
            f = value
            if f.default is _MISSING:
                delattr(cls, name)   # a factory's field has no class attribute
            else:
                setattr(cls, name, f.default)
        else:
            f = Field(default=value)
        f.name = name
        if fields_ and _has_default(fields_[-1]) and not _has_default(f):
            raise TypeError(f"non-default field {name!r} follows a default field")
        fields_.append(f)
    names = tuple(f.name for f in fields_)
    compared = tuple(f.name for f in fields_ if f.compare)
    qualname = cls.__qualname__
    set_attribute = object.__setattr__

    def __init__(self, *args, **kwargs):
        if len(args) > len(names):
            raise TypeError(f"{qualname}.__init__() takes {len(names) + 1} positional "
                            f"arguments but {len(args) + 1} were given")
        for f, value in zip(fields_, args, strict=False):
            if f.name in kwargs:
                raise TypeError(f"{qualname}.__init__() got multiple values for "
                                f"argument {f.name!r}")
            set_attribute(self, f.name, value)
        for f in fields_[len(args):]:
            value = kwargs.pop(f.name, _MISSING)
            if value is _MISSING:
                if f.default_factory is not _MISSING:
                    value = f.default_factory()
                elif f.default is not _MISSING:
                    value = f.default
                else:
                    raise TypeError(f"{qualname}.__init__() missing required argument: "
                                    f"{f.name!r}")
            set_attribute(self, f.name, value)
        if kwargs:
            raise TypeError(f"{qualname}.__init__() got an unexpected keyword argument "
                            f"{next(iter(kwargs))!r}")

    def __repr__(self):
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__qualname__}({inner})"

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in compared)

    methods = {"__init__": __init__, "__repr__": __repr__, "__eq__": __eq__}
    if frozen:
        def __setattr__(self, name, value):
            raise FrozenInstanceError(f"cannot assign to field {name!r}")

        def __delattr__(self, name):
            raise FrozenInstanceError(f"cannot delete field {name!r}")

        def __hash__(self):
            return hash(tuple(getattr(self, n) for n in compared))

        methods.update(__setattr__=__setattr__, __delattr__=__delattr__, __hash__=__hash__)
    else:
        methods["__hash__"] = None
    for name, method in methods.items():
        if name in cls.__dict__ and cls.__dict__[name] is not None:
            continue   # the class's own wins, as with dataclasses
        if method is not None:
            method.__qualname__ = f"{qualname}.{name}"
        setattr(cls, name, method)
    cls.__record_fields__ = tuple(fields_)
    return cls


def _has_default(f: Field) -> bool:
    return f.default is not _MISSING or f.default_factory is not _MISSING


def fields(obj_or_cls) -> tuple[Field, ...]:
    """The record's fields, in order."""
    return obj_or_cls.__record_fields__


def replace(obj, **changes):
    """A copy of record ``obj`` with ``changes``."""
    values = {f.name: getattr(obj, f.name) for f in fields(obj)}
    values.update(changes)
    return type(obj)(**values)


def asdict(obj) -> dict:
    """``obj``'s fields as a dict, records, lists, tuples and dicts in it copied in kind."""
    return {f.name: _copied(getattr(obj, f.name)) for f in fields(obj)}


def _copied(value):
    if hasattr(type(value), "__record_fields__"):
        return asdict(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_copied(v) for v in value)
    if isinstance(value, dict):
        return type(value)((_copied(k), _copied(v)) for k, v in value.items())
    return value
