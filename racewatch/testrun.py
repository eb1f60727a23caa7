"""racewatch under pytest: which test each race belongs to, and what the run reports.

The pytest plugin (``pytest_plugin.py``) holds only the hooks; this module does the work.
A race belongs to the test phase (setup, call, teardown) that was running when its second
access happened, whatever thread made it; a race while no test runs (collection, session
fixtures, threads still running after the last test) belongs to the session.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from . import __version__, session
from .config import OptionError, Options, resolve_options
from .instrument.transform import TRANSFORM_VERSION, install_helper, rewrite
from .patches import Patcher
from .records import field, record, replace
from .reports import text
from .reports.files import REPORT_FILES, failure, unwritable, write_report
from .reports.merge import merge_reports
from .reports.model import Race, Report, problems
from .runtime import stacks
from .suppressions import unused_lines


@record
class Phase:
    nodeid: str
    when: str           # "setup" | "call" | "teardown"
    ignored: bool       # the test carries @pytest.mark.racewatch(ignore=True)
    races: dict[tuple, Race] = field(default_factory=dict)


class TestRun:
    """One pytest process's racewatch: the detector session and the races per test.

    In an xdist controller (``detect=False``) no test runs and no detector starts: it
    only merges what the workers send back.
    """

    __test__ = False  # not a test class, whatever pytest's python_classes says

    def __init__(self, config, options: Options, detect: bool = True):
        self.config = config
        self.options = options
        self._lock = threading.Lock()
        self.phase: Phase | None = None
        self.by_test: dict[str, set[tuple]] = {}   # nodeid -> signatures of its races
        self.outside: dict[tuple, Race] = {}       # races while no test ran
        self.counted: set[tuple] = set()           # signatures seen outside ignored tests
        self.worker_reports: list[Report] = []     # xdist: what the workers sent back
        self.worker_outside = 0
        self.worker_unused: list[list[str]] = []   # xdist: each worker's unused suppressions
        self.unused: list[str] | None = None       # this process's, once it has finished
        self.final: Report | None = None
        self.written: list[str] = []
        self.unwritten: list[str] = []
        self.session = None
        self._pytest_patches = Patcher()
        check_report_paths(options)
        if detect:
            rootdir = Path(str(config.rootpath))
            args = list(config.invocation_params.args)
            # The report files are this run's to write (complete(): the workers' merged in).
            watched = replace(options, json=None, html=None, sarif=None)
            self.session = session.start(watched, roots=[rootdir],
                                         command=["pytest", *args], print_races=False,
                                         mode="pytest")
            self.session.add_listener(self._on_race)
            self._cooperate_with_assertion_rewriting()
            _end_stacks_where_pytest_calls_tests()

    # -- instrumentation of test modules ----------------------------------------------------

    def _cooperate_with_assertion_rewriting(self) -> None:
        """Test modules and conftests are pytest's to rewrite: add ours to its rewrite.

        pytest's hook goes first in ``sys.meta_path`` (ours right after it), and its
        ``rewrite_asserts`` gets our rewrite applied to the same tree.  Its cache of
        rewritten pycs gets a name of our own meanwhile, so that a later run without
        ``--racewatch`` never loads instrumented code.
        """
        try:
            from _pytest.assertion import rewrite as pytest_rewrite
        except ImportError:  # pragma: no cover - every supported pytest has it
            return
        hook = self.session.hook
        for i, finder in enumerate(sys.meta_path):
            if isinstance(finder, pytest_rewrite.AssertionRewritingHook):
                if hook in sys.meta_path:
                    sys.meta_path.remove(hook)
                sys.meta_path.insert(i + 1, hook)
                break
        original = pytest_rewrite.rewrite_asserts
        install_helper()

        def rewrite_asserts(mod, *args, **kwargs):
            original(mod, *args, **kwargs)
            rewrite(mod)

        self._pytest_patches.replace(pytest_rewrite, "rewrite_asserts", rewrite_asserts)
        tail = pytest_rewrite.PYC_TAIL
        ours = tail.replace(".py", f"-racewatch-{__version__}-{TRANSFORM_VERSION}.py", 1)
        self._pytest_patches.replace(pytest_rewrite, "PYC_TAIL", ours)

    # -- attribution ----------------------------------------------------------------------

    def enter(self, nodeid: str, when: str, ignored: bool) -> None:
        self.phase = Phase(nodeid, when, ignored)

    def leave(self) -> Phase | None:
        phase, self.phase = self.phase, None
        return phase

    def _on_race(self, race: Race, new: bool) -> None:
        """Listener: runs in the thread that found the race, under the race table's lock."""
        phase = self.phase
        with self._lock:
            if phase is None:
                self.outside.setdefault(race.signature, race)
                self.counted.add(race.signature)
                return
            phase.races.setdefault(race.signature, race)
            if not phase.ignored:
                self.counted.add(race.signature)
                if phase.nodeid not in race.tests:
                    race.tests.append(phase.nodeid)
                self.by_test.setdefault(phase.nodeid, set()).add(race.signature)

    def failure(self, phase: Phase):
        """The report of the races of a phase (a pytest long repr), or None when it had none
        or the test is exempt."""
        if phase.ignored or not phase.races:
            return None
        strip = self.options.strip_path_prefix
        n = len(phase.races)
        kinds = list(dict.fromkeys(r.pattern.title for r in phase.races.values() if r.pattern))
        what = f" ({', '.join(kinds)})" if kinds else ""
        headline = (f"racewatch: {n} data race{'s' if n != 1 else ''}{what} during the "
                    f"{phase.when} of this test")
        body = "\n".join(text.format_race(race, os.getpid(), strip)
                         for race in phase.races.values())
        return _race_failure(headline, body)

    # -- the end ------------------------------------------------------------------------

    def finish(self) -> Report | None:
        """Stop the detector; this process's report (races of ignored tests left out)."""
        if self.final is None and self.session is not None:
            wait_for_threads()
            report = session.stop()
            self.unused = self.session.suppressions.unused()
            self._pytest_patches.undo()
            if report is not None:
                report.races = [r for r in report.races if r.signature in self.counted]
                report.summary.races = len(report.races)
                report.summary.problems = len(problems(report.races))
            self.final = report
        return self.final

    def add_worker_output(self, data: dict) -> None:
        if data.get("report"):
            self.worker_reports.append(Report.from_json(data["report"]))
        self.worker_outside += int(data.get("outside", 0))
        if data.get("unused") is not None:
            self.worker_unused.append(list(data["unused"]))

    def unused_suppressions(self) -> list[str]:
        """The suppressions that matched nothing in the whole run: in no worker, under
        xdist (each worker reads the same file)."""
        lists = ([self.unused] if self.unused is not None else []) + self.worker_unused
        if not lists:
            return []
        return [rule for rule in lists[0] if all(rule in other for other in lists[1:])]

    def complete(self) -> Report:
        """The run's report (the workers' merged in, under xdist), written where asked."""
        own = self.finish()
        reports = ([own] if own is not None else []) + self.worker_reports
        command = own.summary.command if own is not None else \
            ["pytest", *self.config.invocation_params.args]
        merged = merge_reports(reports, command=command)
        self.written, self.unwritten = write_reports(merged, self.options)
        self.merged = merged
        return merged

    def races_outside(self) -> int:
        return len(self.outside) + self.worker_outside

    def summary_lines(self) -> list[str]:
        report = getattr(self, "merged", None)
        if report is None:
            return []
        races = report.races
        lines = []
        suppressed = report.summary.suppressed_races
        if not races:
            lines.append(text.closing_line(0, suppressed))
        else:
            tests = sorted({t for r in races for t in r.tests})
            hidden = f", {suppressed} suppressed" if suppressed else ""
            n = report.summary.problems
            grouped = f"{n} problem{'s' if n != 1 else ''}, " if 0 < n < len(races) else ""
            lines.append(f"racewatch: {len(races)} race{'s' if len(races) != 1 else ''} "
                         f"found ({grouped}{report.summary.occurrences} occurrences){hidden}")
            if tests:
                lines.append(f"  in {len(tests)} test{'s' if len(tests) != 1 else ''}:")
                lines.extend(f"    {t}" for t in tests)
            outside = self.races_outside()
            if outside:
                lines.append(f"  and {outside} outside any test (collection, session "
                             "fixtures, threads left running): see below")
        lines.extend(unused_lines(self.unused_suppressions()))
        for path in self.written:
            lines.append(f"racewatch: report written to {path}")
        lines.extend(self.unwritten)
        return lines

    def outside_texts(self) -> list[str]:
        strip = self.options.strip_path_prefix
        return [text.format_race(race, os.getpid(), strip) for race in self.outside.values()]


def _race_failure(headline: str, body: str):
    """A long repr whose ``reprcrash.message`` is the headline: what pytest prints in its
    short test summary (pytest 7 and 8 take it from there only)."""
    from types import SimpleNamespace

    from _pytest._code.code import TerminalRepr

    class RaceFailure(TerminalRepr):
        reprcrash = SimpleNamespace(message=headline, path="", lineno=0)

        def toterminal(self, tw) -> None:
            tw.line(headline)
            tw.line(body)

    return RaceFailure()


def _end_stacks_where_pytest_calls_tests() -> None:
    """Stacks end at the test function or fixture: the 30-odd frames of pytest and pluggy
    below it are the same in every report and say nothing."""
    import _pytest.fixtures
    import _pytest.python
    import _pytest.runner

    for module in (_pytest.python, _pytest.fixtures, _pytest.runner):
        stacks.end_stacks_at_frames_of(vars(module))


def check_report_paths(options: Options) -> None:
    """An OptionError now for a report file that could not be written at the end."""
    for name in REPORT_FILES:
        path = getattr(options, name)
        reason = unwritable(path) if path else None
        if reason is not None:
            raise OptionError(f"option {name!r}: cannot write {path!r}: {reason}")


def write_reports(report: Report, options: Options) -> tuple[list[str], list[str]]:
    """The report files the options ask for: the paths written, and one line for each
    that could not be (the others are written all the same)."""
    written, failed = [], []
    for name in REPORT_FILES:
        path = getattr(options, name)
        if not path:
            continue
        try:
            write_report(name, report, path, options.strip_path_prefix)
        except Exception as exc:  # noqa: BLE001 -- one line, and the other reports
            failed.append(f"racewatch: error: cannot write {REPORT_FILES[name]} to {path}: "
                          f"{failure(exc, path)}")
        else:
            written.append(path)
    return written, failed


def wait_for_threads() -> None:
    """Wait for the threads tests left running, as the interpreter would at exit, so that
    their races are in the report."""
    main = threading.main_thread()
    current = threading.current_thread()
    while True:
        for t in threading.enumerate():
            if t is not main and t is not current and not t.daemon and t.is_alive():
                t.join()
                break
        else:
            return


def options_from(config) -> Options:
    """Options from pyproject, the pytest ini file, RACEWATCH_OPTIONS, the command line."""
    namespace = vars(config.known_args_namespace)
    ini = {}
    for key in ("include", "exclude"):
        value = config.getini(f"racewatch_{key}")
        if value:
            ini[key] = list(value)
    cli = {key: namespace.get(f"racewatch_{key}")
           for key in ("include", "exclude", "json", "html", "sarif", "suppressions")}
    return resolve_options(cli, cwd=Path(str(config.rootpath)),
                           more_files=(ini, "the pytest ini file"),
                           cli_source="the pytest command line")
