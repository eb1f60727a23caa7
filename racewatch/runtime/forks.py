"""A forked child resets racewatch before any racewatch code in it can wait for a lock.

In the child, CPython clears the states of the parent's other threads inside
``os.fork()`` itself (``PyOS_AfterFork_Child``), before any ``os.register_at_fork`` hook
runs: their thread-locals die there, and racewatch's thread-exit callback runs, and so
may a finalizer, or another library's after-fork hook that makes a lock or an event.  A
lock of racewatch's that another thread of the parent held at the fork stays held
forever in the child.  So each racewatch operation that takes a lock calls ``settle()``
first; in a forked child whose reset has not run yet it runs it then, whichever comes
first: the locks are made anew and the parent's threads, races and log forgotten.  The
after-fork hook below calls it too, for a child in which nothing of racewatch ran earlier.

Outside a fork ``settle()`` costs one test of a list: ``_forks`` is filled only between the
before-fork hook and the after-fork hook of a fork under way, and a child inherits it
filled.  Only then is the process id compared.
"""

from __future__ import annotations

import _thread
import os
import weakref
from collections.abc import Callable

_getpid = os.getpid
_pid = _getpid()                     # the process whose state racewatch holds
_forks: list[None] = []              # one entry per os.fork() under way (list ops are atomic)
_copies: list[Callable[[], None]] = []   # run before the resets (at_fork_in_child)
_resets: list[Callable[[], None]] = []
_locks: weakref.WeakSet = weakref.WeakSet()


def lock() -> _thread.RLock:
    """A lock for racewatch's own state: made anew by ``settle()`` in a forked child, and
    re-entrant, since a signal handler, a finalizer or a GC callback may run between any
    two bytecodes of the code that holds it, and come back to racewatch in that thread."""
    new = _thread.RLock()
    _locks.add(new)
    return new


def at_fork_in_child(reset: Callable[[], None], *, first: bool = False) -> None:
    """Call ``reset()`` in a forked child before racewatch takes any lock there: those
    registered ``first`` before the others, each in the order of registration.

    ``first`` is for a table that racewatch's code reads and writes while the others reset
    (a reset drops objects, and their weakref callbacks run): it is made anew before."""
    (_copies if first else _resets).append(reset)


def settle() -> bool:
    """In a forked child not yet reset, reset racewatch now; True if that happened here."""
    global _pid
    if not _forks:
        return False
    pid = _getpid()
    if pid == _pid:
        return False  # the parent, while one of its threads forks
    _pid = pid
    _forks.clear()
    for held in list(_locks):
        held._at_fork_reinit()
    for reset in _copies + _resets:
        reset()
    return True


def lookup(table: dict, key, default=None):
    """``table.get(key, default)`` without taking the dict's lock, for a table that many
    threads read and that loses no key while they do.

    On free-threaded CPython 3.13 ``dict.get`` locks the dict (``table[key]`` and ``in``
    read it without the lock); a dict that threads keep locking can be left locked for
    good in a forked child, when CPython hands its lock to a waiting thread just as another
    thread forks: that thread does not exist in the child."""
    return table[key] if key in table else default


def _before_fork() -> None:
    _forks.append(None)


def _after_fork_in_parent() -> None:
    try:
        _forks.pop()
    except IndexError:  # pragma: no cover - a hook registered before this module's
        pass


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                    after_in_child=settle)
