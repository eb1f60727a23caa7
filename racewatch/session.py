"""A detector session: what ``racewatch.start()`` installs and ``racewatch.stop()`` removes.

Install and uninstall mirror each other: the happens-before patches, the import hook, the
excepthook wrappers and the race listeners go in with ``start`` and out with ``stop``.
"""

from __future__ import annotations

import _thread
import atexit
import os
import platform
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from . import __version__, patches
from .config import Options, expand_pid
from .instrument.hook import RewriteHook
from .instrument.policy import Policy
from .reports import json_report, text
from .reports.model import Race, Report, Summary
from .runtime.races import RaceTable
from .runtime.settings import SETTINGS
from .runtime.shadow import REGISTRY
from .runtime.tracebacks import ExceptHooks

_lock = threading.RLock()  # taken before start() patches threading: a plain RLock
_session: Session | None = None


class Session:
    """One run of the detector, from ``start`` to ``stop``."""

    def __init__(self, options: Options, roots: Iterable[str], command: list[str] | None,
                 instrument: bool, print_races: bool):
        self.options = options
        self.roots = [str(r) for r in roots]
        self.command = list(command) if command is not None else list(sys.argv)
        self.table = RaceTable()
        self.pid = os.getpid()
        self.started = time.monotonic()
        self.hook = RewriteHook(Policy(self.roots, options.include, options.exclude)) \
            if instrument else None
        self._excepthooks = ExceptHooks()
        self._print_races = print_races
        self.finished: Report | None = None

    # -- listeners ----------------------------------------------------------------------

    def _print_race(self, race: Race, new: bool) -> None:
        if new:
            sys.stderr.write(text.format_race(race, self.pid, self.options.strip_path_prefix))
            sys.stderr.flush()

    def add_listener(self, listener: Callable[[Race, bool], None]) -> None:
        self.table.listeners.append(listener)

    # -- install / uninstall ------------------------------------------------------------

    def install(self) -> None:
        SETTINGS.stack_depth = self.options.stack_depth
        SETTINGS.sink = self.table.on_conflict
        SETTINGS.tracking = True
        SETTINGS.started_ns = time.monotonic_ns()
        if self._print_races:
            self.add_listener(self._print_race)
        patches.install()
        if self.hook is not None:
            self.hook.install()
        self._excepthooks.install()
        REGISTRY.current()  # the starting thread is known from here on
        if threading.active_count() == 1 and _thread._count() == 0:
            REGISTRY.update_solo()
        else:
            # Threads that started before racewatch: nothing is known of their order.
            REGISTRY.solo_allowed = False
        SETTINGS.enabled = True

    def uninstall(self) -> None:
        SETTINGS.enabled = False
        self._excepthooks.uninstall()
        if self.hook is not None:
            self.hook.uninstall()
        patches.uninstall()
        SETTINGS.sink = None

    # -- results ------------------------------------------------------------------------

    def report(self) -> Report:
        """The report so far: every distinct race and the run's summary."""
        races = self.table.races()
        summary = Summary(
            races=len(races),
            occurrences=self.table.occurrences,
            suppressed=self.table.suppressed,
            threads=REGISTRY.threads_seen,
            dicts_tracked=SETTINGS.dicts_tracked,
            accesses=REGISTRY.accesses(),
            duration_s=round(time.monotonic() - self.started, 3),
            python=f"{platform.python_implementation()} {platform.python_version()}",
            command=self.command,
            pid=self.pid,
            peak_rss_mb=_peak_rss_mb(),
            recycled_thread_slots=REGISTRY.recycled_unordered,
            forgotten_deleted_keys=SETTINGS.forgotten_keys,
        )
        return Report(__version__, races, summary)

    def write_reports(self, report: Report) -> None:
        """The report files the options ask for."""
        path = expand_pid(self.options.json)
        if path:
            json_report.write(report, path)


def _peak_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in KiB on Linux, bytes on macOS.
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def start(options: Options | None = None, *, roots: Iterable[str | Path] | None = None,
          command: list[str] | None = None, instrument: bool = True,
          print_races: bool = True) -> Session:
    """Start the detector (a second call returns the running session)."""
    global _session
    with _lock:
        if _session is not None:
            return _session
        if options is None:
            from .config import resolve_options

            options = resolve_options()
        session = Session(options, roots if roots is not None else [os.getcwd()], command,
                          instrument, print_races)
        session.install()
        _session = session
        atexit.register(_finish_at_exit, session)
        return session


def stop(closing_line: bool = False) -> Report | None:
    """Stop the detector, write the reports asked for, and return the final report."""
    global _session
    with _lock:
        session = _session
        if session is None:
            return None
        session.uninstall()
        _session = None
        report = session.report()
        session.finished = report
        session.write_reports(report)
        if closing_line:
            sys.stderr.write(text.closing_line(report.summary.races) + "\n")
            sys.stderr.flush()
        return report


def current() -> Session | None:
    return _session


def _finish_at_exit(session: Session) -> None:
    if _session is session:
        stop(closing_line=True)
