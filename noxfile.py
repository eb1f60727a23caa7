"""Run the test suite on every supported interpreter: ``nox`` (see the README)."""

from pathlib import Path

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


@nox.session(python=PYTHONS)
@nox.parametrize("core", ["c", "python"])
def tests(session, core):
    """The suite on the compiled core and on the pure-Python one (RACEWATCH_CORE)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "-n", "auto", *session.posargs,
                env={"RACEWATCH_CORE": core})


@nox.session(name="tests-3.13t", python=False, default=False)
def tests_free_threaded(session):
    """The suite on free-threaded CPython 3.13t, compiled core, GIL off (see .ci/run).

    The interpreter is built once by tools/freethreaded-python (about ten minutes, as root
    on Debian) and reused; the session keeps its virtual environment in .nox/tests-3.13t.
    """
    # Its last line is the path (the rest: what it says while building, on stderr).
    python = session.run("tools/freethreaded-python", silent=True, external=True).splitlines()[-1]
    venv = Path(".nox") / "tests-3.13t"
    if not (venv / "bin" / "python").exists():
        session.run(python, "-m", "venv", str(venv), external=True)
    venv_python = str(venv / "bin" / "python")
    session.run(venv_python, "-m", "pip", "install", "--quiet", "--prefer-binary", "-e",
                ".[test]", external=True)
    session.run(venv_python, "-m", "pytest", "-n", "auto", *session.posargs, external=True,
                env={"PYTHON_GIL": "0", "RACEWATCH_CORE": "c"})


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
