"""The detector's runtime switches, read on every access (so: plain attributes)."""

from __future__ import annotations

from .core import COMPILED


class Settings:
    __slots__ = ("enabled", "tracking", "stack_depth", "sink", "dicts_tracked",
                 "forgotten_keys", "forgotten_lookups", "started_ns", "budget", "tracking_cut",
                 "generation", "report_key_order")

    def __init__(self):
        self.enabled = False        # racewatch.start() .. racewatch.stop()
        self.tracking = True        # False once the memory budget cut tracking of new dicts
        self.stack_depth = 32
        self.report_key_order = False  # inserts and deletes conflict with each other too
        self.sink = None            # callable(Conflict), set by the detector
        self.dicts_tracked = 0
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
