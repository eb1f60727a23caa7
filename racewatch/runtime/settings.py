"""The detector's runtime switches, read on every access (so: plain attributes)."""

from __future__ import annotations

from ..config import WATCH_KINDS
from . import forks
from .core import COMPILED

# What can be watched (the ``watch`` option): one bit each in ``Settings.watch``.
WATCH_BITS = {name: 1 << i for i, name in enumerate(WATCH_KINDS)}
WATCH_DICT, WATCH_ATTR, WATCH_GLOBAL, WATCH_LIST, WATCH_SET = WATCH_BITS.values()
WATCH_ALL = sum(WATCH_BITS.values())


def watch_mask(names) -> int:
    """The ``Settings.watch`` bits of the kinds ``names`` (known names only)."""
    mask = 0
    for name in names:
        mask |= WATCH_BITS[name]
    return mask


class Settings:
    __slots__ = ("enabled", "tracking", "stack_depth", "sink", "dicts_tracked",
                 "lists_tracked", "sets_tracked", "forgotten_keys", "forgotten_lookups",
                 "started_ns", "budget",
                 "tracking_cut", "generation", "report_key_order", "watch")

    def __init__(self):
        self.enabled = False        # racewatch.start() .. racewatch.stop()
        self.tracking = True        # False once the memory budget cut tracking of new dicts
        self.stack_depth = 32
        self.report_key_order = False  # inserts and deletes conflict with each other too
        self.watch = WATCH_ALL      # what is tracked: WATCH_* bits (the ``watch`` option)
        self.sink = None            # callable(Conflict), set by the detector
        self.dicts_tracked = 0
        self.lists_tracked = 0
        self.sets_tracked = 0
        self.forgotten_keys = 0     # deleted keys whose history the shadow let go (shadow.py)
        self.forgotten_lookups = 0  # likewise, keys only looked up while they were absent
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

_counters_lock = forks.lock()  # made anew in a forked child


def add_to(counter: str, n: int = 1) -> None:
    """``SETTINGS.<counter> += n``, from any thread: ``+=`` on an attribute reads, then
    writes, and another thread's addition in between would be lost (with or without the
    GIL)."""
    with _counters_lock:
        setattr(SETTINGS, counter, getattr(SETTINGS, counter) + n)

