"""Run the test suite on every supported interpreter: ``nox`` (see the README)."""

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


@nox.session(python=PYTHONS)
@nox.parametrize("core", ["c", "python"])
def tests(session, core):
    """The suite on the compiled core and on the pure-Python one (RACEWATCH_CORE)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "-n", "auto", *session.posargs,
                env={"RACEWATCH_CORE": core})


@nox.session(python="3.11")
def lint(session):
    session.install("ruff")
    session.run("ruff", "check", "racewatch", "tests", "benchmarks")


@nox.session(python="3.10")
@nox.parametrize("pytest_version", ["7", "8"])
def plugin_older_pytest(session, pytest_version):
    """The pytest plugin against older pytest majors (the main sessions use the newest)."""
    major = int(pytest_version)
    session.install("-e", ".[test]", f"pytest>={major},<{major + 1}")
    if major < 8:
        session.install("pytest-run-parallel<0.5")
    session.run("python", "-m", "pytest", "-n", "auto", "tests/test_pytest_plugin.py",
                *session.posargs)
