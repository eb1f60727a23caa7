"""The memory budget (``max_memory_mb``): past it, no new dict or key is tracked.

The process's resident memory is read with psutil every few thousand accesses of a thread
(``shadow._enter``), not on every one.  Races already found are kept, and every report says
that tracking was cut, and when.
"""

from __future__ import annotations

import sys
import time

from .settings import SETTINGS

CHECK_EVERY = 4096  # accesses of one thread between two readings (a power of two)


class MemoryBudget:
    def __init__(self, limit_mb: int):
        import psutil

        self.limit_mb = limit_mb
        self._process = psutil.Process()

    def check(self) -> None:
        if not SETTINGS.tracking:
            return
        rss_mb = self._process.memory_info().rss / (1024 * 1024)
        if rss_mb > self.limit_mb:
            elapsed = (time.monotonic_ns() - SETTINGS.started_ns) / 1e9
            SETTINGS.tracking = False
            SETTINGS.tracking_cut = (f"tracking cut {elapsed:.1f} s into the run: resident "
                                     f"memory {rss_mb:.0f} MB passed the budget of "
                                     f"{self.limit_mb} MB; races found before it are kept, "
                                     "dicts and keys new since then are not checked")
            sys.stderr.write(f"racewatch: warning: {SETTINGS.tracking_cut}\n")
