"""The happens-before edges of threading, queue, concurrent.futures, file locks and weak
registries, as patches.

Every patch goes through one ``Patcher``, which keeps the ``(parent, name, original)``
triple of each change: ``uninstall`` puts back exactly what ``install`` replaced, in
reverse order, and nothing else.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from collections.abc import Callable
from types import FunctionType

from ..instrument.hook import find_spec_elsewhere
from ..runtime import stacks

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

    Where wrapt's compiled part is missing (no wheel of it for free-threaded builds, or
    ``WRAPT_DISABLE_EXTENSIONS`` set), its wrappers are Python classes whose frames stand
    between the program and racewatch's patches: every module of wrapt is left out of the
    stacks and tracebacks racewatch shows, as racewatch's own are.
    """
    if "wrapt" in sys.modules:
        stacks.leave_out_library(_wrapt_modules().values())
        return sys.modules["wrapt"].FunctionWrapper
    before = set(sys.modules)
    try:
        spec = importlib.util.find_spec("wrapt")
        sys.modules["wrapt"] = importlib.util.module_from_spec(spec)
        FunctionWrapper = _compiled_function_wrapper()
        if FunctionWrapper is None:
            from wrapt.__wrapt__ import FunctionWrapper
    except Exception:  # noqa: BLE001 -- another wrapt layout: the plain way
        FunctionWrapper = None
    finally:
        loaded = _wrapt_modules(set(sys.modules) - before)
        stacks.leave_out_library(loaded.values())
        for name in loaded:
            del sys.modules[name]
    if FunctionWrapper is None:
        import wrapt

        stacks.leave_out_library(_wrapt_modules().values())
        FunctionWrapper = wrapt.FunctionWrapper
    return FunctionWrapper


def _compiled_function_wrapper():
    """The ``FunctionWrapper`` of wrapt's compiled module, which ``wrapt.__wrapt__`` exports
    when there is one, or None.  Loaded by itself: ``__wrapt__`` first imports the Python
    implementation, whose module imports ``inspect`` (and ``dis`` with it), 4-6 ms of every
    watched process's start-up for classes racewatch does not use."""
    if os.environ.get("WRAPT_DISABLE_EXTENSIONS"):
        return None   # wrapt's own switch to its Python classes
    try:
        from wrapt._wrappers import FunctionWrapper
    except ImportError:
        return None   # no compiled module (a free-threaded build without a wheel of it)
    return FunctionWrapper


def _wrapt_modules(names=None) -> dict:
    """name -> module, for the modules of wrapt in ``sys.modules`` (among ``names``)."""
    names = list(sys.modules) if names is None else names
    return {name: sys.modules[name] for name in names
            if name == "wrapt" or name.startswith("wrapt.")}


FunctionWrapper = _load_function_wrapper()


class Patcher:
    """Applies attribute patches and remembers how to undo each one."""

    def __init__(self):
        self._undo: list[tuple[object, str, object]] = []
        self._after_import: _AfterImport | None = None

    def when_imported(self, name: str, install: Callable) -> None:
        """Call ``install(module, patcher)`` on module ``name``: now if it is imported,
        else right after the program imports it, so that racewatch imports none of the
        modules it patches itself.  Such an import runs as a primitive's internals
        (``as_internal``): a lock the module makes at import, such as
        ``concurrent.futures.thread._global_shutdown_lock``, stays a plain lock."""
        module = sys.modules.get(name)
        if module is not None:
            install(module, self)
            return
        if self._after_import is None:
            self._after_import = _AfterImport(self)
            self.prepend(sys.meta_path, self._after_import)
        self._after_import.pending.setdefault(name, []).append(install)

    def wrap(self, parent, name: str, wrapper: Callable) -> None:
        """Wrap ``parent.name`` with a wrapt wrapper ``wrapper(wrapped, instance, args, kwargs)``.

        The attribute as stored is wrapped (a class's staticmethod stays one); an attribute
        a class inherits is wrapped on that class only.  A function written in Python gets a
        function that calls ``wrapper`` as wrapt would (``_wrapping_function``); anything
        else (a builtin, a staticmethod) gets wrapt's ``FunctionWrapper``.
        """
        target = vars(parent).get(name, _MISSING)
        if target is _MISSING:
            target = getattr(parent, name)
        if type(target) is FunctionType:
            value = _wrapping_function(target, wrapper, method=isinstance(parent, type))
        else:
            value = FunctionWrapper(target, wrapper)
        self.replace(parent, name, value)

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

    def on_undo(self, undo: Callable[[], None]) -> None:
        """Call ``undo()`` when the patches are undone (in reverse order, as the others)."""
        self._undo.append((undo, None, None, "call"))

    def undo(self) -> None:
        while self._undo:
            parent, name, original, *how = self._undo.pop()
            if how == ["call"]:
                parent()
            elif how == ["item"]:
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


def _wrapping_function(function: FunctionType, wrapper: Callable, method: bool) -> FunctionType:
    """A function that calls ``wrapper(wrapped, instance, args, kwargs)`` as a wrapt
    ``FunctionWrapper`` of ``function`` does: for a method, ``wrapped`` bound to the
    instance, which ``args`` leave out; for a function, ``instance`` None.

    A method that is a function binds as any other (a call ``obj.method()`` makes no
    object), where a ``FunctionWrapper`` makes a bound wrapper on each access: about
    500 ns a call on Python 3.11 and 730 ns on 3.13, against 240 and 340 ns this way, and
    a thread pool makes such calls for every task (a ``Future``'s ``__init__``; the
    hottest, ``set_result``, ``result``, the work item's ``__init__`` and ``run``, get
    functions of their own in futures.py, which call the original with no wrapper between).
    ``functools.wraps`` keeps its name, qualified name, documentation, ``__wrapped__``
    (``inspect.signature`` follows it) and module.
    """
    if method:
        bind = function.__get__

        @functools.wraps(function)
        def wrapping(self, *args, **kwargs):
            return wrapper(bind(self), self, args, kwargs)
    else:
        @functools.wraps(function)
        def wrapping(*args, **kwargs):
            return wrapper(function, None, args, kwargs)
    return wrapping


class _AfterImport:
    """A meta path finder (by its methods: ``importlib.abc`` costs start-up time) that
    lets the other finders find the modules ``Patcher.when_imported`` waits for, and
    patches each right after it is executed."""

    def __init__(self, patcher: Patcher):
        self.patcher = patcher
        self.pending: dict[str, list[Callable]] = {}

    def find_spec(self, fullname, path=None, target=None):
        installs = self.pending.get(fullname)
        if not installs:
            return None
        spec = find_spec_elsewhere(self, fullname, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _PatchingLoader(spec.loader, installs, self.patcher)
        return spec


class _PatchingLoader:
    """The module's own loader, then the patches; everything else is the loader's."""

    def __init__(self, loader, installs: list[Callable], patcher: Patcher):
        self._loader = loader
        self._installs = installs
        self._patcher = patcher

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        from .context import as_internal

        as_internal(self._loader.exec_module, None, (module,), {})
        for install in self._installs:
            install(module, self._patcher)

    def __getattr__(self, name):
        return getattr(self._loader, name)


_patcher: Patcher | None = None


def install() -> None:
    """Install every happens-before patch (idempotent)."""
    global _patcher
    if _patcher is not None:
        return
    from . import compat, filelocks, futures, locks, primitives, queues, signals, threads, weakrefs

    patcher = Patcher()
    for module in (locks, signals, threads, primitives, queues, futures, filelocks, weakrefs,
                   compat):
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


stacks.leave_out_frames_of(globals())
