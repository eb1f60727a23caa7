"""The detector's runtime switches, read on every access (so: plain attributes)."""

from __future__ import annotations

import _thread

from .core import COMPILED


class Settings:
    __slots__ = ("enabled", "tracking", "stack_depth", "sink", "dicts_tracked",
                 "forgotten_keys", "started_ns", "budget", "tracking_cut", "generation")

    def __init__(self):
        self.enabled = False        # racewatch.start() .. racewatch.stop()
        self.tracking = True        # False once the memory budget cut tracking of new dicts
        self.stack_depth = 32
        self.sink = None            # callable(Conflict), set by the detector
        self.dicts_tracked = 0
        self.forgotten_keys = 0     # deleted keys whose history the shadow let go (shadow.py)
        self.started_ns = 0         # time.monotonic_ns() when the detector started
        self.budget = None          # a MemoryBudget (budget.py) when max_memory_mb is set
        self.tracking_cut = None    # why and when tracking was cut, for every report
        # Bumped in a forked child: shadows made before the fork start over (shadow.py).
        self.generation = 0


SETTINGS = Settings()

if COMPILED is not None:
    # The same switches as C fields, which the compiled core reads on every access.
    Settings = COMPILED.Settings
    SETTINGS = COMPILED.SETTINGS

_counters_lock = _thread.allocate_lock()


def add_to(counter: str, n: int = 1) -> None:
    """``SETTINGS.<counter> += n``, from any thread: ``+=`` on an attribute reads, then
    writes, and another thread's addition in between would be lost (with or without the
    GIL)."""
    with _counters_lock:
        setattr(SETTINGS, counter, getattr(SETTINGS, counter) + n)


def reinit_locks_after_fork() -> None:
    """Another thread may have held the lock at the fork: in the child, it never lets go."""
    _counters_lock._at_fork_reinit()
