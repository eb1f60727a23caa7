"""The happens-before edges of threading, queue and concurrent.futures, as patches.

Every patch goes through one ``Patcher``, which keeps the ``(parent, name, original)``
triple of each change: ``uninstall`` puts back exactly what ``install`` replaced, in
reverse order, and nothing else.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable

_MISSING = object()


def _load_function_wrapper():
    """wrapt's ``FunctionWrapper``, without running wrapt's package ``__init__``.

    wrapt 2.x's ``__init__`` imports asyncio and importlib.metadata for features racewatch
    does not use: 11.5 MB of resident memory and 25 ms of start-up (``python -c "import
    wrapt"`` against ``pass``, Python 3.11), more than racewatch itself, on every watched
    process.  ``FunctionWrapper`` lives in ``wrapt.__wrapt__``; it is loaded under a parent
    module that is never executed, and every ``wrapt`` entry this adds to ``sys.modules`` is
    taken out again, so a program that imports wrapt later gets the whole package, loaded
    afresh as if racewatch had not been there.  (With wrapt 2, whose compiled module is
    loaded anew, that later ``wrapt.FunctionWrapper`` is then another class than the one
    racewatch's patches are instances of.)  Anything unexpected falls back to a plain
    ``import wrapt``.
    """
    if "wrapt" in sys.modules:
        return sys.modules["wrapt"].FunctionWrapper
    before = set(sys.modules)
    try:
        spec = importlib.util.find_spec("wrapt")
        sys.modules["wrapt"] = importlib.util.module_from_spec(spec)
        from wrapt.__wrapt__ import FunctionWrapper
    except Exception:  # noqa: BLE001 -- another wrapt layout: the plain way
        FunctionWrapper = None
    finally:
        for name in set(sys.modules) - before:
            if name == "wrapt" or name.startswith("wrapt."):
                del sys.modules[name]
    if FunctionWrapper is None:
        import wrapt

        FunctionWrapper = wrapt.FunctionWrapper
    return FunctionWrapper


FunctionWrapper = _load_function_wrapper()


class Patcher:
    """Applies attribute patches and remembers how to undo each one."""

    def __init__(self):
        self._undo: list[tuple[object, str, object]] = []

    def wrap(self, parent, name: str, wrapper: Callable) -> None:
        """Wrap ``parent.name`` with a wrapt wrapper ``wrapper(wrapped, instance, args, kwargs)``.

        The attribute as stored is wrapped (a class's staticmethod stays one); an attribute
        a class inherits is wrapped on that class only.
        """
        target = vars(parent).get(name, _MISSING)
        if target is _MISSING:
            target = getattr(parent, name)
        self.replace(parent, name, FunctionWrapper(target, wrapper))

    def replace(self, parent, name: str, value) -> None:
        """Set ``parent.name`` to ``value``."""
        # vars(), not getattr(): a module-level __getattr__ (concurrent.futures has one)
        # must not run, and an inherited attribute must be deleted again, not copied.
        original = vars(parent).get(name, _MISSING)
        setattr(parent, name, value)
        self._undo.append((parent, name, original))

    def set_item(self, mapping: dict, key, value) -> None:
        """Set ``mapping[key]`` (a dispatch table, a registry)."""
        self._undo.append((mapping, key, mapping.get(key, _MISSING), "item"))
        mapping[key] = value

    def prepend(self, items: list, value) -> None:
        """Put ``value`` first in ``items`` (a finder in ``sys.meta_path``)."""
        items.insert(0, value)
        self._undo.append((items, None, value, "prepend"))

    def undo(self) -> None:
        while self._undo:
            parent, name, original, *how = self._undo.pop()
            if how == ["item"]:
                if original is _MISSING:
                    parent.pop(name, None)
                else:
                    parent[name] = original
            elif how == ["prepend"]:
                if original in parent:
                    parent.remove(original)
            elif original is _MISSING:
                delattr(parent, name)
            else:
                setattr(parent, name, original)

    def __len__(self) -> int:
        return len(self._undo)


_patcher: Patcher | None = None


def install() -> None:
    """Install every happens-before patch (idempotent)."""
    global _patcher
    if _patcher is not None:
        return
    # Import what we patch first: module-level locks that these modules make at import
    # (concurrent.futures.thread's _global_shutdown_lock) must stay plain locks.
    import concurrent.futures.thread  # noqa: F401
    import queue  # noqa: F401
    import threading  # noqa: F401

    from . import compat, futures, locks, primitives, queues, threads

    patcher = Patcher()
    for module in (locks, threads, primitives, queues, futures, compat):
        module.install(patcher)
    _patcher = patcher


def uninstall() -> None:
    """Remove every patch ``install`` made."""
    global _patcher
    if _patcher is not None:
        _patcher.undo()
        _patcher = None


def installed() -> bool:
    return _patcher is not None
