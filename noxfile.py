"""Run the test suite on every supported interpreter: ``nox`` (see the README)."""

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


@nox.session(python=PYTHONS)
def tests(session):
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "-n", "auto", *session.posargs)


@nox.session(python="3.11")
def lint(session):
    session.install("ruff")
    session.run("ruff", "check", "racewatch", "tests", "benchmarks")
