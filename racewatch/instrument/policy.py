"""Which modules are instrumented.

By default: the modules whose files lie under one of the *roots* (the current directory,
the script's directory), never the standard library, site-packages or racewatch itself.
``include`` globs add modules by name, installed packages included; ``exclude`` globs win
over everything.  A pattern names a module and its submodules: ``mypkg`` covers
``mypkg.sub``.
"""

from __future__ import annotations

import fnmatch
import os
import site
import sys
from collections.abc import Iterable

_RACEWATCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _real(path: str | os.PathLike) -> str:
    return os.path.normcase(os.path.realpath(path))


def _matches(name: str, patterns: Iterable[str]) -> bool:
    """True when a pattern names the module or a package it is in."""
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(name, p + ".*")
               for p in patterns)


def _library_dirs() -> tuple[list[str], list[str]]:
    """(standard library directories, site-packages directories).

    The standard library's is os's own; the site-packages are site's, which name those of
    sysconfig's install paths too (a venv's, a distribution's dist-packages, a framework
    build's).  sysconfig is asked only where site cannot say: its paths are made from the
    build's configuration variables, whose module takes 0.2 MB of a watched process's
    peak memory and a millisecond of its start-up (3.12).  (sysconfig's other standard
    library directory in a venv, the venv's own ``lib/pythonX.Y``, holds only its
    site-packages.)
    """
    stdlib = {os.path.dirname(os.__file__)}
    sites = set()
    getsitepackages = getattr(site, "getsitepackages", None)
    if getsitepackages is not None:
        sites.update(getsitepackages())
    else:  # some embedded/virtualenv site modules lack it
        import sysconfig

        paths = sysconfig.get_paths()
        stdlib |= {paths.get("stdlib"), paths.get("platstdlib")}
        sites |= {paths.get("purelib"), paths.get("platlib")}
    user_site = getattr(site, "getusersitepackages", lambda: None)()
    if user_site:
        sites.add(user_site)
    return ([_real(p) for p in stdlib if p], [_real(p) for p in sites if p])


class Policy:
    """Decides, for a module name and its file, whether to instrument it."""

    def __init__(self, roots: Iterable[str | os.PathLike] = (),
                 include: Iterable[str] = (), exclude: Iterable[str] = ()):
        self.roots = [_real(r) for r in roots]
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self._stdlib, self._sites = _library_dirs()
        self._stdlib_names = frozenset(getattr(sys, "stdlib_module_names", ()))

    def may_instrument(self, name: str) -> bool:
        """The cheap check on the name alone, before any file is looked for."""
        top = name.partition(".")[0]
        if top == "racewatch" or top in self._stdlib_names:
            return False
        return not _matches(name, self.exclude)

    def should_instrument(self, name: str, path: str) -> bool:
        """The full decision, given the module's source file."""
        if not self.may_instrument(name):
            return False
        real = _real(path)
        if _under(real, [_RACEWATCH_DIR]):
            return False
        if _under(real, self._stdlib) and not _under(real, self._sites):
            return False  # site-packages lies inside the stdlib directory on POSIX
        if self.include and _matches(name, self.include):
            return True
        if _under(real, self._sites) or _is_site_path(real):
            return False
        return _under(real, self.roots)

    def should_instrument_file(self, path: str) -> bool:
        """For a file run by path (``runpy.run_path``): by where it lies only."""
        real = _real(path)
        if _under(real, [_RACEWATCH_DIR]):
            return False
        if _under(real, self._stdlib) and not _under(real, self._sites):
            return False
        if _under(real, self._sites) or _is_site_path(real):
            return False
        return _under(real, self.roots)


def _under(path: str, dirs: Iterable[str]) -> bool:
    for d in dirs:
        if path == d or path.startswith(d.rstrip(os.sep) + os.sep):
            return True
    return False


def _is_site_path(path: str) -> bool:
    parts = os.path.normpath(path).split(os.sep)
    return "site-packages" in parts or "dist-packages" in parts
