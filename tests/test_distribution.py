"""The distribution: ``python -m build`` gives an sdist and a wheel that ``twine check``
accepts, and the sdist installs into a fresh virtual environment, with a C compiler (the
compiled core, the start-up hook) and without one (the pure-Python core, and a note).

Slow (a build and two installs from the package index): it runs when
RACEWATCH_TEST_INSTALL=1, as .ci/run sets it, with ``build`` and ``twine`` installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

if os.environ.get("RACEWATCH_TEST_INSTALL", "") in ("", "0"):
    pytest.skip("builds the sdist and installs it into fresh venvs: set "
                "RACEWATCH_TEST_INSTALL=1 (.ci/run does)", allow_module_level=True)

from corpus_tools import TIMEOUT  # noqa: E402
from test_install import NOTE, RACY  # noqa: E402

ROOT = Path(__file__).parent.parent
INSTALL_TIMEOUT = 900


def check_call(argv: list, **kwargs) -> subprocess.CompletedProcess:
    run = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                         timeout=INSTALL_TIMEOUT, **kwargs)
    assert run.returncode == 0, f"{argv}\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RACEWATCH", "PYTEST_", "VIRTUAL_ENV", "PYTHON"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    """``python -m build``: the sdist, and the wheel built from it (as pip would)."""
    out = tmp_path_factory.mktemp("dist")
    check_call([sys.executable, "-m", "build", "--outdir", out, ROOT], env=base_env())
    (sdist,) = out.glob("racewatch-*.tar.gz")
    (wheel,) = out.glob("racewatch-*.whl")
    return {"sdist": sdist, "wheel": wheel}


def fresh_venv(path: Path) -> Path:
    """A new virtual environment; its python."""
    check_call([sys.executable, "-m", "venv", path], env=base_env())
    return path / "bin" / "python"


def watched_run(python: Path, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    (tmp_path / "racy.py").write_text(RACY)
    racewatch = python.with_name("racewatch")  # the console script, as a user runs it
    return subprocess.run([str(racewatch), "run", "--json", "r.json", "racy.py"],
                          capture_output=True, text=True, cwd=tmp_path,
                          env=base_env(**env), timeout=TIMEOUT)


def test_sdist_carries_what_building_and_testing_need(dist):
    with tarfile.open(dist["sdist"]) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    must = {"LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", "setup.py",
            "MANIFEST.in", "racewatch.pth", "racewatch/_core/core.h",
            "racewatch/_core/module.c", "racewatch/reports/schemas/report.schema.json",
            "racewatch/reports/schemas/log-line.schema.json",
            "racewatch/reports/templates/report.html.j2", "tests/conftest.py",
            "tests/corpus_tools.py", "examples/registry_racy.py", "docs/json-report.md",
            "docs/ci.md"}
    assert must <= names, sorted(must - names)
    assert any(n.startswith("tests/corpus/locks/racy_") for n in names)
    assert not [n for n in names if n.endswith((".so", ".pyc", ".png"))]


def test_wheel_carries_the_core_the_hook_the_schemas_and_the_license(dist):
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read("racewatch-{}.dist-info/METADATA".format(
            dist["wheel"].name.split("-")[1])).decode()
    assert "racewatch.pth" in names  # at the root: site-packages
    assert any(n.startswith("racewatch/_core.") and n.endswith(".so") for n in names)
    assert {"racewatch/reports/schemas/report.schema.json",
            "racewatch/reports/schemas/log-line.schema.json",
            "racewatch/reports/templates/report.html.j2"} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not [n for n in names if n.endswith((".c", ".h")) or n.startswith("tests/")]
    assert "License-Expression: MIT" in metadata.splitlines()


def test_twine_accepts_both(dist):
    run = check_call([sys.executable, "-m", "twine", "check", "--strict",
                      dist["sdist"], dist["wheel"]], env=base_env())
    assert run.stdout.count("PASSED") == 2, run.stdout


def test_sdist_installs_without_a_c_compiler_and_says_which_core_runs(dist, tmp_path):
    python = fresh_venv(tmp_path / "venv")
    # CC=/bin/false: every compile fails, as on a machine without a compiler.
    check_call([python, "-m", "pip", "install", "--no-cache-dir", dist["sdist"]],
               env=base_env(CC="/bin/false"))
    core = check_call([python, "-c", "from racewatch.runtime import core; print(core.NAME)"],
                      env=base_env(), cwd=tmp_path)
    assert core.stdout == "python\n"
    run = watched_run(python, tmp_path)
    assert run.returncode == 66, run.stderr
    assert run.stdout == "done\n"
    assert run.stderr.count(NOTE) == 1 and run.stderr.startswith(NOTE), run.stderr
    assert "(racewatch._core is not installed)" in run.stderr.splitlines()[0]
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["core"] == "python"
    chosen = watched_run(python, tmp_path, RACEWATCH_CORE="python")
    assert chosen.returncode == 66 and "racewatch: note" not in chosen.stderr, chosen.stderr


def test_sdist_installs_with_the_compiled_core_and_the_startup_hook(dist, tmp_path):
    python = fresh_venv(tmp_path / "venv")
    check_call([python, "-m", "pip", "install", "--no-cache-dir", dist["sdist"]],
               env=base_env())
    run = watched_run(python, tmp_path)
    assert run.returncode == 66, run.stderr
    assert "racewatch: note" not in run.stderr
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["core"] == "c"
    # racewatch.pth, installed at the root of site-packages: RACEWATCH=1 watches python.
    staged = subprocess.run([str(python), "racy.py"], capture_output=True, text=True,
                            cwd=tmp_path, env=base_env(RACEWATCH="1"), timeout=TIMEOUT)
    assert staged.returncode == 0 and staged.stdout == "done\n", staged.stderr
    assert "WARNING: racewatch: data race" in staged.stderr
    meta = check_call([python, "-c", "import importlib.metadata as m; "
                       "print(m.metadata('racewatch')['License-Expression'])"],
                      env=base_env(), cwd=tmp_path)
    assert meta.stdout == "MIT\n"


def test_the_oldest_setuptools_allowed_builds_it(dist, tmp_path):
    """The floor in build-system.requires is real: a venv with exactly that setuptools
    builds racewatch without build isolation (setuptools 76 rejects its license)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    (floor,) = [r.split(">=")[1] for r in requires if r.startswith("setuptools>=")]
    python = fresh_venv(tmp_path / "venv")
    check_call([python, "-m", "pip", "install", "--no-cache-dir", f"setuptools=={floor}"],
               env=base_env())
    check_call([python, "-m", "pip", "install", "--no-cache-dir", "--no-build-isolation",
                "--no-deps", dist["sdist"]], env=base_env(CC="/bin/false"))
    meta = check_call([python, "-c", "import importlib.metadata as m; "
                       "print(m.metadata('racewatch')['License-Expression'])"],
                      env=base_env(), cwd=tmp_path)
    assert meta.stdout == "MIT\n"
