"""The import hook: one finder that hands the modules it instruments to a rewriting loader."""

from __future__ import annotations

import importlib.machinery
import os
import sys
from types import CodeType

from . import cache
from .policy import Policy
from .transform import compile_instrumented, install_helper


def load_instrumented(path: str, cached: bool = True) -> CodeType:
    """The rewritten code of source file ``path``, from the cache when it is current."""
    install_helper()
    with open(path, "rb") as f:
        source = f.read()
    code = cache.read(path, source) if cached else None
    if code is None:
        code = compile_instrumented(source, path)
        if cached:
            cache.write(path, source, code)
    return code


_SourceFileLoader = importlib.machinery.SourceFileLoader


class RewritingLoader(_SourceFileLoader):
    """A source loader whose code is the rewritten module (and whose cache is ours)."""

    def get_code(self, fullname: str) -> CodeType:
        return load_instrumented(self.get_filename(fullname))

    def source_to_code(self, data, path, *, _optimize=-1):
        return compile_instrumented(data, path)


def _instrumented_run_path_code(hook: RewriteHook):
    """A wrapper for ``runpy._get_code_from_file``: runpy.run_path compiles the file itself,
    past any import hook; multiprocessing's spawn and forkserver load the main module with
    it in the child.  Its signature changed in 3.12, so the original is called and the code
    in its result swapped, keeping the result's shape."""

    def wrapper(wrapped, instance, args, kwargs):
        result = wrapped(*args, **kwargs)
        fname = args[-1] if args else kwargs.get("fname")
        path = os.path.abspath(os.fsdecode(fname)) if fname is not None else ""
        if not path.endswith(".py") or not hook.policy.should_instrument_file(path):
            return result
        code = load_instrumented(path, cached=False)  # as the script of racewatch run
        return (code, *result[1:]) if isinstance(result, tuple) else code

    return wrapper


def find_spec_elsewhere(me, fullname, path=None, target=None):
    """The spec that the meta path finders other than ``me`` find for ``fullname``: how a
    finder that only adjusts what is found (this hook, the patches' after-import finder)
    leaves the finding itself to the others, so editable installs and custom path hooks
    keep working."""
    for finder in list(sys.meta_path):
        if finder is me or not hasattr(finder, "find_spec"):
            continue
        try:
            spec = finder.find_spec(fullname, path, target)
        except Exception:  # a finder that fails is the import system's to report
            return None
        if spec is not None:
            return spec
    return None


class RewriteHook:
    """Finds the modules the policy instruments and gives them a ``RewritingLoader``.

    A meta path finder by its methods, not by ``importlib.abc.MetaPathFinder``: that module
    costs a few milliseconds of every watched process's start-up.

    The name check comes first and costs nothing; only then is the module looked for,
    by the finders that come after this one, so editable installs and custom path hooks
    keep working.  A module that is not plain ``.py`` source is left to them.
    """

    def __init__(self, policy: Policy):
        self.policy = policy
        self.instrumented: list[str] = []
        self._patches = None

    def find_spec(self, fullname, path=None, target=None):
        if not self.policy.may_instrument(fullname):
            return None
        spec = find_spec_elsewhere(self, fullname, path, target)
        if spec is None or not spec.has_location or not isinstance(spec.origin, str):
            return None
        origin = spec.origin
        if not origin.endswith(".py") or not isinstance(spec.loader, _SourceFileLoader):
            return None
        if not self.policy.should_instrument(fullname, origin):
            return None
        spec.loader = RewritingLoader(fullname, origin)
        spec.cached = cache.cache_path(origin)
        self.instrumented.append(fullname)
        return spec

    def install(self) -> None:
        import runpy

        from ..patches import Patcher

        install_helper()
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)
        self._patches = Patcher()
        self._patches.wrap(runpy, "_get_code_from_file", _instrumented_run_path_code(self))

    def uninstall(self) -> None:
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
        patches = getattr(self, "_patches", None)
        if patches is not None:
            patches.undo()
            self._patches = None
