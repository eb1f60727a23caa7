"""File locks: an ``fcntl.flock`` unlock happens before the next lock of the same file.

flock(2) locks belong to an *open file description* (what ``open`` makes; a ``dup`` or a
fork shares it) and a file is identified by its device and inode, so two threads that
each open a lock file are excluded by the kernel: the holder's unlock, or its close of
the last descriptor, lets the next one in.  The edges follow that promise:

* an exclusive lock (``LOCK_EX``) is ordered after every earlier unlock of the file;
* a shared lock (``LOCK_SH``) is ordered after the earlier *exclusive* unlocks only:
  readers do not order each other, and a writer after readers is ordered after each
  reader's unlock;
* an unlock is ``LOCK_UN``, or ``os.close`` of the descriptor the lock was taken with;
* a non-blocking attempt (``LOCK_NB``) that fails takes nothing and adds no edge;
* converting a lock (shared to exclusive or back) is an unlock and a new lock, as the
  kernel does it (flock(2): the conversion is not atomic).

What is not seen: a lock released by closing a *file object* (its ``close()``, the end
of its ``with`` block, its collection) happens in C, so its holder's section is not
ordered before the next holder's.  filelock, dogpile.cache's DBM backend, portalocker and
fasteners all unlock explicitly before they close.  A lock released through another
descriptor of the same open file (a ``dup``) is not seen either.  Two threads that lock
through one shared descriptor are not excluded by the kernel (the lock is the open file
description's), yet racewatch orders them like two descriptors when their sections do not
overlap in time.

``fcntl.lockf`` and ``fcntl.fcntl`` record locks (``F_SETLK``, ``F_SETLKW``) belong to
the *process*: the kernel lets every thread of the holding process in at once, so they
order no two threads and add no edge.  Open-file-description record locks
(``F_OFD_SETLK``, ``F_OFD_SETLKW``) are not modelled.
"""

from __future__ import annotations

import os
import weakref

from ..runtime import stacks
from ..runtime.sync import SyncVar, acquire, release_join, release_store
from .context import thread_state

SHARED, EXCLUSIVE = "LOCK_SH", "LOCK_EX"


class FileLockState:
    """The clocks a locked file carries between the threads that lock it."""

    __slots__ = ("exclusive", "unlocks")

    def __init__(self, label: str):
        self.exclusive = SyncVar(label)  # the last exclusive unlock: what a reader waits for
        self.unlocks = SyncVar(label)    # every unlock since: what a writer waits for


class Held:
    """A lock that a descriptor holds, as far as racewatch saw it taken."""

    __slots__ = ("file", "mode", "owner", "via")

    def __init__(self, file: tuple[int, int], mode: str, owner, via):
        self.file = file
        self.mode = mode
        self.owner = owner  # the ThreadState that took it
        self.via = via      # a weak reference to the file object it was taken through

    def stale(self, st: os.stat_result | None) -> bool:
        """True when the lock is surely gone already: its file object was closed (in C,
        unseen) or the descriptor (``st``, its status now) names another file."""
        if self.via is not None:
            obj = self.via()
            if obj is None or getattr(obj, "closed", False):
                return True
        return st is None or (st.st_dev, st.st_ino) != self.file


# (st_dev, st_ino) -> FileLockState.  One per file ever locked: a lock file is long-lived
# and a later holder needs the clocks of every earlier one.
_files: dict[tuple[int, int], FileLockState] = {}
# descriptor -> Held, from a successful lock until its unlock or os.close.
_held: dict[int, Held] = {}
_LOCK_SH = _LOCK_EX = _LOCK_UN = 0


def _descriptor(file) -> int | None:
    """The descriptor ``fcntl`` will use for ``file`` (an int, or an object with
    ``fileno()``), or None where fcntl itself will refuse it."""
    if isinstance(file, int):
        return file
    try:
        fd = file.fileno()
    except Exception:  # noqa: BLE001 -- fcntl raises its own error for it
        return None
    return fd if isinstance(fd, int) else None


def _stat(fd: int) -> os.stat_result | None:
    try:
        return os.fstat(fd)
    except (OSError, ValueError):
        return None


def _label(identity: tuple[int, int], fd: int, file) -> str:
    """``flock(/path/to/file)``: the path the descriptor was opened with, as the kernel
    knows it (Linux), else as the file object knows it."""
    path = None
    try:
        path = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        name = getattr(file, "name", None)
        if isinstance(name, str):
            path = name
    if path is None:
        path = f"inode {identity[0]}:{identity[1]}"
    return f"flock({path})"


def _state(identity: tuple[int, int], fd: int, file) -> FileLockState:
    state = _files.get(identity)
    if state is None:
        state = _files.setdefault(identity, FileLockState(_label(identity, fd, file)))
    return state


def _unlock(ts, fd: int, kind: str) -> None:
    """Publish the section of the lock ``fd`` holds, if racewatch saw it taken."""
    held = _held.pop(fd, None)
    if held is None:
        return
    st = _stat(fd)
    state = _files.get(held.file)
    if state is None or held.stale(st):
        return
    if held.mode == EXCLUSIVE:
        release_store(state.exclusive, ts, kind)
        # The writer's lock was ordered after every unlock before it, and no other open
        # file could unlock while it held the lock: its clock is every unlock so far.
        # One store instead of a second release keeps the timeline at one event.
        state.unlocks.state = state.exclusive.state
    else:
        release_join(state.unlocks, ts, kind)
    if kind == "close" and st.st_nlink == 0:
        # A deleted file (an O_TMPFILE probe, a lock file removed while held): its inode
        # is freed once closed, and the next file made may get its number, but not its
        # clocks.
        _files.pop(held.file, None)


def _flock(wrapped, instance, args, kwargs):
    ts = thread_state()
    if ts is None or len(args) != 2 or kwargs:
        return wrapped(*args, **kwargs)
    file, operation = args
    fd = _descriptor(file)
    if fd is None or not isinstance(operation, int):
        return wrapped(*args, **kwargs)
    if operation & _LOCK_UN:
        _unlock(ts, fd, "unlock")
        return wrapped(*args, **kwargs)
    mode = EXCLUSIVE if operation & _LOCK_EX else SHARED if operation & _LOCK_SH else None
    held = _held.get(fd)
    if mode is not None and held is not None and held.mode != mode and held.owner is ts:
        # A conversion: the kernel removes the old lock before it places the new one.
        _unlock(ts, fd, "unlock")
    result = wrapped(*args, **kwargs)  # a failed LOCK_NB attempt raises: no edge
    st = _stat(fd) if mode is not None else None
    if st is not None:
        identity = st.st_dev, st.st_ino
        state = _state(identity, fd, file)
        if mode == EXCLUSIVE:
            acquire(state.unlocks, ts, "lock")
        else:
            acquire(state.exclusive, ts, "shared lock")
        _held[fd] = Held(identity, mode, ts, None if isinstance(file, int) else _weak(file))
    return result


def _weak(obj):
    try:
        return weakref.ref(obj)
    except TypeError:
        return None


def _close(wrapped, instance, args, kwargs):
    if _held and len(args) == 1 and not kwargs:
        fd = args[0]
        if isinstance(fd, int) and fd in _held:
            ts = thread_state()
            if ts is not None:
                _unlock(ts, fd, "close")
    return wrapped(*args, **kwargs)


def install(patcher) -> None:
    # fcntl is imported by few programs: patched, with os.close, when the program does.
    patcher.when_imported("fcntl", _install_flock)


def _install_flock(fcntl, patcher) -> None:
    global _LOCK_SH, _LOCK_EX, _LOCK_UN
    if not hasattr(fcntl, "flock"):
        return
    _LOCK_SH, _LOCK_EX, _LOCK_UN = fcntl.LOCK_SH, fcntl.LOCK_EX, fcntl.LOCK_UN
    _files.clear()
    _held.clear()
    patcher.wrap(fcntl, "flock", _flock)
    patcher.wrap(os, "close", _close)


stacks.leave_out_frames_of(globals())
