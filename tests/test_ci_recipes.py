"""docs/ci.md: its YAML parses, and its jobs, run as a CI service would run them on a small
project, fail on a race, pass without one, and leave the files their upload steps keep.

Steps run in order with bash -eo pipefail (as GitHub's and GitLab's runners do), with the
step's environment, ``python``/``racewatch`` from this test's environment; a step after a
failure runs only under ``always()`` (GitHub).  Installing (``pip install``) and the
actions themselves are left to the services: an action step is checked for the files it
names instead.
"""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from corpus_tools import TIMEOUT, clean_env

DOC = Path(__file__).parent.parent / "docs" / "ci.md"
ACTIONS = {"actions/checkout", "actions/setup-python", "actions/upload-artifact",
           "github/codeql-action/upload-sarif"}

SHOP = """\
    import threading

    stock = {"pear": 5}
    lock = threading.Lock()


    def reserve(item):
        with lock:
            if stock.get(item, 0) > 0:
                stock[item] -= 1


    def in_threads(fn, n=2):
        threads = [threading.Thread(target=fn) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    """
# The check-then-act without the lock: two races (the read and the write of 'pear').
RACY_SHOP = SHOP.replace("""\
        with lock:
            if stock.get(item, 0) > 0:
                stock[item] -= 1
""", """\
        if stock.get(item, 0) > 0:
            stock[item] -= 1
""")
assert RACY_SHOP != SHOP

TESTS = """\
    import shop


    def test_reserve_in_threads():
        shop.in_threads(lambda: shop.reserve("pear"))


    def test_reserve_once():
        shop.reserve("pear")
    """

SMOKE = """\
    import os
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    import shop

    shop.in_threads(lambda: shop.reserve("pear"))
    print("smoke test passed")
    """


def make_project(path: Path, racy: bool) -> Path:
    files = {"shop.py": RACY_SHOP if racy else SHOP, "conftest.py": "",
             "tests/test_shop.py": TESTS, "scripts/smoke_test.py": SMOKE}
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(textwrap.dedent(text))
    return path


def yaml_blocks() -> list[dict]:
    blocks = re.findall(r"^```yaml\n(.*?)^```$", DOC.read_text(), flags=re.S | re.M)
    return [yaml.safe_load(block) for block in blocks]


def github_workflow() -> dict:
    workflow, smoke = [b for b in yaml_blocks() if "jobs" in b or "smoke" in b]
    workflow["jobs"].update(smoke)  # the smoke job is shown on its own, for the workflow
    return workflow


def gitlab_job() -> dict:
    (config,) = [b for b in yaml_blocks() if "racewatch" in b and "script" in b["racewatch"]]
    return config["racewatch"]


def is_install(command: str) -> bool:
    return bool(re.match(r"python -m pip install ", command))


def shell(script: str, project: Path, env: dict[str, str]) -> int:
    environ = {k: v for k, v in clean_env().items()
               if not k.startswith(("PYTEST_", "RACEWATCH"))} | env
    environ["RACEWATCH_CORE"] = clean_env()["RACEWATCH_CORE"]
    environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                          cwd=project, env=environ, capture_output=True, text=True,
                          timeout=TIMEOUT).returncode


@dataclass
class Outcome:
    statuses: list[int] = field(default_factory=list)  # of each command run, in order
    failed: bool = False
    kept: list[str] = field(default_factory=list)       # files the upload steps take


def run_github_job(job: dict, project: Path) -> Outcome:
    outcome = Outcome()
    for step in job["steps"]:
        condition = step.get("if", "")
        if outcome.failed and "always()" not in condition:
            continue
        if "uses" in step:
            action = step["uses"].split("@")[0]
            assert action in ACTIONS, action
            with_ = step.get("with", {})
            if action == "github/codeql-action/upload-sarif":
                sarif = project / with_["sarif_file"]
                assert "hashFiles('racewatch.sarif')" in condition
                if sarif.exists():
                    assert json.loads(sarif.read_text())["version"] == "2.1.0"
                    outcome.kept.append(with_["sarif_file"])
            elif action == "actions/upload-artifact":
                for pattern in with_["path"].split():
                    outcome.kept += [str(Path(p).relative_to(project))
                                     for p in glob.glob(str(project / pattern))]
            continue
        assert set(step) <= {"name", "run", "env", "if"}, step
        if is_install(step["run"]):
            assert "racewatch" in step["run"].split()
            continue
        status = shell(step["run"], project, {k: str(v) for k, v in step.get("env", {}).items()})
        outcome.statuses.append(status)
        outcome.failed = outcome.failed or status != 0
    return outcome


def run_gitlab_job(job: dict, project: Path) -> Outcome:
    outcome = Outcome()
    for command in job["script"]:
        if is_install(command):
            assert "racewatch" in command.split()
            continue
        status = shell(command, project, {})
        outcome.statuses.append(status)
        if status != 0:
            outcome.failed = True
            break
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always" or not outcome.failed
    for pattern in artifacts["paths"] + list(artifacts.get("reports", {}).values()):
        outcome.kept += [str(Path(p).relative_to(project))
                         for p in glob.glob(str(project / pattern))]
    return outcome


def sarif_results(project: Path) -> int:
    return len(json.loads((project / "racewatch.sarif").read_text())["runs"][0]["results"])


# -- the YAML ----------------------------------------------------------------------------


def test_every_block_is_yaml_of_a_known_shape():
    blocks = yaml_blocks()
    assert len(blocks) == 3
    workflow = github_workflow()
    assert workflow["permissions"]["security-events"] == "write"
    assert set(workflow["jobs"]) == {"tests", "smoke"}
    assert gitlab_job()["artifacts"]["reports"]["junit"] == "report.xml"


def test_every_racewatch_flag_in_the_recipes_exists():
    """Each --flag of a pytest or racewatch command is in that command's --help."""
    commands = [s["run"] for job in github_workflow()["jobs"].values() for s in job["steps"]
                if "run" in s and not is_install(s["run"])]
    commands += [c for c in gitlab_job()["script"] if not is_install(c)]
    helps = {}
    for tool, argv in (("pytest", ["-m", "pytest", "--help"]),
                       ("racewatch report", ["-m", "racewatch", "report", "--help"]),
                       ("racewatch run", ["-m", "racewatch", "run", "--help"])):
        helps[tool] = subprocess.run([sys.executable, *argv], capture_output=True, text=True,
                                     env=clean_env(), timeout=TIMEOUT).stdout
    checked = 0
    for command in commands:
        words = command.split()
        tool = "pytest" if "pytest" in words else " ".join(words[:2])
        if tool not in helps:
            continue
        for flag in (w for w in words if w.startswith("--")):
            assert re.search(rf"(^|[\s,]){re.escape(flag)}\b", helps[tool], flags=re.M), \
                (tool, flag)
            checked += 1
    assert checked >= 8


# -- the jobs, for real --------------------------------------------------------------------


@pytest.mark.parametrize("racy", [True, False], ids=["racy", "clean"])
def test_github_tests_job(tmp_path, racy):
    project = make_project(tmp_path, racy)
    outcome = run_github_job(github_workflow()["jobs"]["tests"], project)
    assert outcome.statuses == [1 if racy else 0]
    assert outcome.failed is racy
    assert sorted(outcome.kept) == ["racewatch.html", "racewatch.json", "racewatch.sarif"]
    assert sarif_results(project) == (2 if racy else 0)


@pytest.mark.parametrize("racy", [True, False], ids=["racy", "clean"])
def test_github_smoke_job(tmp_path, racy):
    project = make_project(tmp_path, racy)
    outcome = run_github_job(github_workflow()["jobs"]["smoke"], project)
    # The smoke test keeps its own status; racewatch report fails the job on a race.
    assert outcome.statuses == [0, 66 if racy else 0]
    assert outcome.failed is racy
    logs = [k for k in outcome.kept if k.startswith("races.")]
    assert "racewatch.html" in outcome.kept and len(logs) == 1
    assert sarif_results(project) == (2 if racy else 0)


@pytest.mark.parametrize("racy", [True, False], ids=["racy", "clean"])
def test_gitlab_job(tmp_path, racy):
    project = make_project(tmp_path, racy)
    outcome = run_gitlab_job(gitlab_job(), project)
    assert outcome.statuses == [1 if racy else 0]
    assert sorted(outcome.kept) == ["racewatch.html", "racewatch.sarif", "report.xml"]
    failures = ET.parse(project / "report.xml").getroot().iter("failure")
    messages = [f.get("message", "") for f in failures]
    assert len(messages) == (1 if racy else 0)
    assert all(m.startswith("racewatch: ") for m in messages)
