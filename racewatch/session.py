"""A detector session: what ``racewatch.start()`` installs and ``racewatch.stop()`` removes.

Install and uninstall mirror each other: the happens-before patches, the import hook, the
excepthook wrappers and the race listeners go in with ``start`` and out with ``stop``.
"""

from __future__ import annotations

import _thread
import atexit
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable

from . import __version__, patches
from .config import OptionError, Options, expand_pid
from .instrument.hook import RewriteHook
from .instrument.loaded import LoadedCode
from .instrument.policy import Policy
from .reports import text
from .reports.files import REPORT_FILES, failure, unwritable, write_report
from .reports.log import RaceLog
from .reports.model import Pattern, Race, Report, Summary, problems
from .reports.output import Output
from .runtime import core, forks, module_globals, objects, shadow
from .runtime.races import RaceTable
from .runtime.settings import SETTINGS, watch_mask
from .runtime.shadow import REGISTRY
from .runtime.tracebacks import ExceptHooks
from .suppressions import Suppressions, unused_lines

# Set in the environment of a watched process, so that its children know they are
# children (and leave the parent's report files alone: see ``write_reports``).
PARENT_ENV = "RACEWATCH_PARENT_PID"

_lock = forks.lock()
_session: Session | None = None


class Session:
    """One run of the detector, from ``start`` to ``stop``."""

    def __init__(self, options: Options, roots: Iterable[str], command: list[str] | None,
                 instrument: bool, print_races: bool, mode: str = "api"):
        self.options = options
        self.mode = mode
        # ISO 8601 in UTC, as datetime would write it, without importing datetime at start-up.
        self.started_at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        self.roots = [str(r) for r in roots]
        self.command = list(command) if command is not None else list(sys.argv)
        self.table = RaceTable()
        self.pid = os.getpid()
        self.started = time.monotonic()
        self.hook = RewriteHook(Policy(self.roots, options.include, options.exclude)) \
            if instrument else None
        self._excepthooks = ExceptHooks()
        self.loaded = LoadedCode()
        self._print_races = print_races
        self._printed: dict[tuple, Pattern | None] = {}  # race signature -> pattern printed
        self.finished: Report | None = None
        # racewatch's own text goes to the stderr of now, whatever the program does with
        # sys.stderr later (reports/output.py).
        self.output = Output(sys.stderr)
        # A child of a watched process (spawned, or forked: see _after_fork_in_child).
        self.is_child = os.environ.get(PARENT_ENV) not in (None, "", str(os.getpid()))
        # Read now: a missing or malformed file, or a report that could not be written, is
        # an OptionError before anything starts.
        self.suppressions = Suppressions.load(options.suppressions) \
            if options.suppressions else Suppressions()
        for name, path in self._report_paths():
            reason = unwritable(path)
            if reason is not None:
                raise OptionError(f"option {name!r}: cannot write {path!r}: {reason}")
        self.log: RaceLog | None = None
        if options.log_path:
            try:
                self.log = RaceLog(options.log_path)
            except OSError as exc:
                raise OptionError(f"option 'log_path': cannot open "
                                  f"{expand_pid(options.log_path)!r}: {failure(exc)}") from None

    # -- listeners ----------------------------------------------------------------------

    def _print_race(self, race: Race, new: bool) -> None:
        if new:
            self._printed[race.signature] = race.pattern
            self.output.write(text.format_race(race, self.pid, self.options.strip_path_prefix))
        elif race.pattern is not self._printed.get(race.signature, race.pattern):
            # A later occurrence showed more of what the two threads did (RaceTable._refine).
            self._printed[race.signature] = race.pattern
            self.output.write(text.format_refinement(race, self.options.strip_path_prefix))

    def _log_race(self, race: Race, new: bool) -> None:
        if new and self.log is not None:
            self.log.write_race(race)

    def _halt(self, race: Race, new: bool) -> None:
        """halt_on_error: the first race ends the program, after the reports are out."""
        if not new:
            return
        global _session
        with _lock:
            if _session is self:
                _session = None
                self.uninstall()
                report = self.report()
                self.finished = report
                self.write_reports(report)
        self.output.say("racewatch: halt_on_error: stopping at the first race\n")
        try:
            sys.stdout.flush()
        except Exception:  # noqa: BLE001 -- the program's stdout, gone or broken
            pass
        os._exit(self.options.exitcode)

    def add_listener(self, listener: Callable[[Race, bool], None]) -> None:
        self.table.listeners.append(listener)

    # -- install / uninstall ------------------------------------------------------------

    def install(self) -> None:
        SETTINGS.stack_depth = self.options.stack_depth
        SETTINGS.report_key_order = self.options.report_key_order
        SETTINGS.watch = watch_mask(self.options.watch)
        SETTINGS.sink = self.table.sink
        SETTINGS.tracking = True
        SETTINGS.tracking_cut = None
        SETTINGS.started_ns = time.monotonic_ns()
        if self.options.max_memory_mb:
            from .runtime.budget import MemoryBudget

            SETTINGS.budget = MemoryBudget(self.options.max_memory_mb)
        self.table.suppress = lambda race, _conflict: self.suppressions.suppresses(race)
        if self.log is not None:
            self.add_listener(self._log_race)
        elif self._print_races:
            self.add_listener(self._print_race)
        if self.options.halt_on_error:
            self.add_listener(self._halt)
        patches.install()
        if self.hook is not None:
            self.hook.install()
            # Functions loaded before this start (racewatch.start() in a program's main()).
            self.loaded.instrument(self.hook.policy)
        self._excepthooks.install()
        REGISTRY.current()  # the starting thread is known from here on
        if threading.active_count() == 1 and _thread._count() == 0:
            REGISTRY.update_solo()
        else:
            # Threads that started before racewatch: nothing is known of their order.
            REGISTRY.solo_allowed = False
        SETTINGS.enabled = True
        # The classes instrumented code has defined (in an earlier session too), once a
        # second thread runs.
        objects.start()

    def uninstall(self) -> None:
        SETTINGS.enabled = False
        objects.stop()
        module_globals.forget_modules()
        self._excepthooks.uninstall()
        self.loaded.restore()
        if self.hook is not None:
            self.hook.uninstall()
        patches.uninstall()
        SETTINGS.sink = None
        SETTINGS.budget = None

    # -- results ------------------------------------------------------------------------

    def report(self) -> Report:
        """The report so far: every distinct race and the run's summary."""
        races = self.table.races()
        summary = Summary(
            races=len(races),
            problems=len(problems(races)),
            occurrences=self.table.occurrences,
            suppressed=self.table.suppressed,
            suppressed_races=self.table.suppressed_races,
            threads=REGISTRY.threads_seen,
            dicts_tracked=SETTINGS.dicts_tracked,
            lists_tracked=SETTINGS.lists_tracked,
            sets_tracked=SETTINGS.sets_tracked,
            accesses=REGISTRY.accesses(),
            duration_s=round(time.monotonic() - self.started, 3),
            python=_python_version(),
            core=core.NAME,
            command=self.command,
            pid=self.pid,
            peak_rss_mb=_peak_rss_mb(),
            tracking_cut=SETTINGS.tracking_cut,
            started_at=self.started_at,
            mode=self.mode,
            recycled_thread_slots=REGISTRY.recycled_unordered,
            forgotten_deleted_keys=SETTINGS.forgotten_keys,
            forgotten_missing_keys=SETTINGS.forgotten_lookups,
        )
        return Report(__version__, races, summary)

    def write_reports(self, report: Report) -> None:
        """The report files the options ask for, and the log's final lines.

        A child process writes a report file only when its path has a ``%p``: without one
        the path is its parent's.
        """
        if self.log is not None:
            self.log.write_final(report)
            self.log.close()
            lost = self.log.say_lost()
            if lost:
                self.output.say(lost + "\n")
        for name, path in self._report_paths():
            try:
                write_report(name, report, path, self.options.strip_path_prefix)
            except Exception as exc:  # noqa: BLE001 -- one line, and the other reports
                self.output.say(f"racewatch: error: cannot write {REPORT_FILES[name]} to "
                                f"{path}: {failure(exc, path)}\n")

    def _report_paths(self) -> list[tuple[str, str]]:
        """(option, path) of each report file this process writes."""
        paths = []
        for name in REPORT_FILES:
            template = getattr(self.options, name)
            if template and not (self.is_child and "%p" not in template):
                paths.append((name, expand_pid(template)))
        return paths

    def after_fork_in_child(self) -> None:
        """A forked child is a new process: new thread clocks, no race, its own log.

        Runs from ``forks.settle()``, at the first racewatch operation in the child that
        needs a lock, which may come before any after-fork hook (see forks.py).
        """
        REGISTRY.reset_after_fork()
        shadow.reinit_locks_after_fork()
        objects.reinit_after_fork()
        module_globals.reinit_after_fork()
        SETTINGS.generation += 1
        self.table.reset_after_fork()
        self.pid = os.getpid()
        self.is_child = True
        self.started = time.monotonic()
        if self.log is not None:
            self.log.reopen_after_fork()
        REGISTRY.current()
        REGISTRY.update_solo()


def _python_version() -> str:
    """"CPython 3.12.4", as the platform module gives it (not imported for so little)."""
    v = sys.version_info
    release = f"{v.major}.{v.minor}.{v.micro}"
    if v.releaselevel != "final":
        release += {"alpha": "a", "beta": "b", "candidate": "rc"}[v.releaselevel] + str(v.serial)
    name = sys.implementation.name
    return f"{ {'cpython': 'CPython', 'pypy': 'PyPy'}.get(name, name)} {release}"


def _peak_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in KiB on Linux, bytes on macOS.
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def start(options: Options | None = None, *, roots: Iterable[str | os.PathLike] | None = None,
          command: list[str] | None = None, instrument: bool = True,
          print_races: bool = True, mode: str = "api") -> Session:
    """Start the detector (a second call returns the running session)."""
    global _session
    with _lock:
        if _session is not None:
            return _session
        if options is None:
            from .config import resolve_options

            options = resolve_options()
        session = Session(options, roots if roots is not None else [os.getcwd()], command,
                          instrument, print_races, mode)
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
        output = session.output
        if session.table.failures:
            n = session.table.failures
            output.say(f"racewatch: internal error: {n} race{'s' if n != 1 else ''} could not "
                       f"be reported ({session.table.first_failure})\n")
        if closing_line:
            output.say_lost()
            output.say(text.closing_line(report.summary.races,
                                         report.summary.suppressed_races,
                                         report.summary.problems) + "\n")
            if report.summary.tracking_cut:
                output.say(f"racewatch: {report.summary.tracking_cut}\n")
            for line in unused_lines(session.suppressions.unused()):
                output.say(line + "\n")
        return report


def current() -> Session | None:
    return _session


def _finish_at_exit(session: Session) -> None:
    if _session is session:
        stop(closing_line=True)


def _reset_in_child() -> None:
    session = _session
    if session is not None:
        session.after_fork_in_child()


def _after_threading_after_fork() -> None:
    """threading's own after-fork hook has run (it was registered first): see
    ``patches.threads.after_fork_in_child``."""
    forks.settle()
    if _session is not None:
        from .patches import threads as thread_patches

        thread_patches.after_fork_in_child()


forks.at_fork_in_child(_reset_in_child)
os.register_at_fork(after_in_child=_after_threading_after_fork)
