"""The pytest plugin: ``pytest --racewatch`` fails each test that races.

Hooks only; the work is in ``racewatch.testrun``.  Without ``--racewatch`` the plugin adds
its options and its marker and nothing else: the per-test hooks are registered only
when the detector runs.
"""

from __future__ import annotations

import json
import os

import pytest

_RUN = pytest.StashKey["object"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("racewatch", "data-race detection (racewatch)")
    group.addoption("--racewatch", action="store_true", default=False,
                    help="detect data races on dicts; a test that races fails")
    group.addoption("--racewatch-include", metavar="GLOBS", default=None,
                    help="module-name globs to instrument as well (comma-separated), "
                         "installed packages included")
    group.addoption("--racewatch-exclude", metavar="GLOBS", default=None,
                    help="module-name globs never to instrument (comma-separated)")
    group.addoption("--racewatch-json", metavar="PATH", default=None,
                    help="write the JSON report there")
    group.addoption("--racewatch-html", metavar="PATH", default=None,
                    help="write the HTML report there")
    group.addoption("--racewatch-sarif", metavar="PATH", default=None,
                    help="write a SARIF 2.1.0 file there (for code scanning)")
    group.addoption("--racewatch-suppressions", metavar="FILE", default=None,
                    help="a ThreadSanitizer-style suppressions file")
    parser.addini("racewatch_include", type="args", default=[],
                  help="module-name globs to instrument as well under --racewatch")
    parser.addini("racewatch_exclude", type="args", default=[],
                  help="module-name globs never to instrument under --racewatch")


def _is_xdist_controller(config: pytest.Config) -> bool:
    # Workers have PYTEST_XDIST_WORKER before their config is parsed, but also the
    # controller's -n; the controller runs no test and needs no detector.
    workers = getattr(config.known_args_namespace, "numprocesses", None)
    return bool(workers) and "PYTEST_XDIST_WORKER" not in os.environ


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    if not early_config.known_args_namespace.racewatch:
        return
    from racewatch.config import OptionError

    try:
        from racewatch import testrun  # chooses the core (RACEWATCH_CORE) as it imports

        options = testrun.options_from(early_config)
        detect = not _is_xdist_controller(early_config)
        run = testrun.TestRun(early_config, options, detect=detect)
    except OptionError as exc:
        raise pytest.UsageError(f"racewatch: {exc}") from None
    early_config.stash[_RUN] = run
    early_config.pluginmanager.register(_ActiveHooks(run), "racewatch-active")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "racewatch(ignore=False): with ignore=True, races during this test do "
                   "not fail it and are left out of racewatch's report")


def pytest_unconfigure(config: pytest.Config) -> None:
    run = config.stash.get(_RUN, None)
    if run is not None:
        run.finish()
        del config.stash[_RUN]


class _ActiveHooks:
    """The hooks that run only under ``--racewatch``."""

    def __init__(self, run):
        self.run = run

    def _enter(self, item: pytest.Item, when: str) -> None:
        marker = item.get_closest_marker("racewatch")
        ignored = bool(marker and marker.kwargs.get("ignore", False))
        self.run.enter(item.nodeid, when, ignored)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item):
        self._enter(item, "setup")
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        self._enter(item, "call")
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item):
        self._enter(item, "teardown")
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        phase = self.run.leave()
        if phase is None or phase.nodeid != item.nodeid or phase.when != call.when:
            return
        failure = self.run.failure(phase)
        if failure is None:
            return
        report = outcome.get_result()
        if report.failed:
            report.sections.append(("racewatch", str(failure)))
        else:
            report.outcome = "failed"
            report.longrepr = failure
            if hasattr(report, "wasxfail"):
                del report.wasxfail

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        config = session.config
        if hasattr(config, "workerinput"):  # an xdist worker: hand the report over
            report = self.run.finish()
            config.workeroutput["racewatch"] = json.dumps(
                {"report": report.to_json() if report else None,
                 "outside": len(self.run.outside)})
            return
        self.run.complete()
        if self.run.races_outside() and session.exitstatus == 0:
            session.exitstatus = self.run.options.exitcode

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error):
        data = getattr(node, "workeroutput", {}).get("racewatch")
        if data:
            self.run.add_worker_output(json.loads(data))

    def pytest_terminal_summary(self, terminalreporter):
        lines = self.run.summary_lines()
        if not lines:
            return
        terminalreporter.section("racewatch")
        for line in lines:
            terminalreporter.write_line(line)
        for text in self.run.outside_texts():
            terminalreporter.write(text)
