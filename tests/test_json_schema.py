"""The JSON report and the log lines match the JSON Schemas racewatch ships, and carry a
format version a reader can check.

Every report that ``corpus_tools.run_racewatch`` reads is validated too (the corpus and
the examples, under both cores); here: the logs, pytest's report, merged reports, a cut
run, and the schema itself (strict enough to refuse what racewatch does not write, and
declaring every field racewatch does write).
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from corpus_tools import (
    CORPUS,
    check_schema,
    clean_env,
    racewatch_command,
    run_racewatch,
    sleep_ordered_runs,
)

from racewatch.reports import schemas

EXAMPLES = Path(__file__).parent.parent / "examples"

RACY = textwrap.dedent("""\
    import threading

    counts = {}
    lock = threading.Lock()


    def locked_writer():
        with lock:
            counts["n"] = counts.get("n", 0) + 1


    def unlocked_reader():
        counts.get("n")
        for _ in counts:
            pass


    threads = [threading.Thread(target=f)
               for f in (locked_writer, unlocked_reader, locked_writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    """)


def racewatch(*args, cwd, env=None):
    return subprocess.run(racewatch_command(*args), capture_output=True, text=True,
                          cwd=cwd, env=env or clean_env(), timeout=120)


def log_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# -- real reports ------------------------------------------------------------------------


def test_report_of_a_racy_run_is_valid_and_says_its_format(tmp_path):
    run = run_racewatch(tmp_path, EXAMPLES / "registry_racy.py")  # validates it
    assert run.status == 66
    report = run.report
    assert report["format"] == 1
    assert list(report)[:2] == ["racewatch", "format"]
    assert len(report["races"]) == report["summary"]["races"] == 2
    assert any(r["timeline"]["current_events"] for r in report["races"])


def test_log_lines_are_valid_race_and_summary_lines(tmp_path):
    (tmp_path / "app.py").write_text(RACY)
    run = racewatch("run", "--log-path", "app.%p.log", "app.py", cwd=tmp_path)
    assert run.returncode == 66, run.stderr
    (log,) = tmp_path.glob("app.*.log")
    lines = log_lines(log)
    for line in lines:
        check_schema(line, "log-line")
        assert line["format"] == 1 and line["pid"] == int(log.name.split(".")[1])
    races = [line for line in lines if "summary" not in line]
    assert races and lines[-1]["summary"]["races"] == len({json.dumps(
        [r["current"]["stack"][0], r["previous"]["stack"][0]]) for r in races})
    assert any(r["previous"]["locks_held"] or r["current"]["locks_held"] for r in races)


def test_merged_report_is_valid(tmp_path):
    (tmp_path / "app.py").write_text(RACY)
    for _ in range(2):
        racewatch("run", "--log-path", "app.%p.log", "app.py", cwd=tmp_path)
    logs = sorted(str(p) for p in tmp_path.glob("app.*.log"))
    assert len(logs) == 2
    run = racewatch("report", *logs, "--json", "merged.json", cwd=tmp_path)
    assert run.returncode == 66, run.stderr
    merged = check_schema(json.loads((tmp_path / "merged.json").read_text()))
    assert merged["summary"]["pid"] is None and merged["summary"]["mode"] == "run"


def test_pytest_report_with_tests_is_valid(tmp_path):
    (tmp_path / "test_shared.py").write_text(textwrap.dedent("""\
        import threading

        def test_racy():
            shared = {}
            def work():
                shared["k"] = shared.get("k", 0) + 1
            threads = [threading.Thread(target=work) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        """))
    env = {k: v for k, v in clean_env().items()
           if not k.startswith(("PYTEST_", "COV_"))}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                           "--racewatch", "--racewatch-json", "r.json"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = check_schema(json.loads((tmp_path / "r.json").read_text()))
    assert report["summary"]["mode"] == "pytest"
    assert report["races"][0]["tests"] == ["test_shared.py::test_racy"]


def test_a_run_cut_by_the_memory_budget_is_valid(tmp_path):
    (tmp_path / "big.py").write_text(textwrap.dedent("""\
        import threading
        big = {}
        for i in range(200_000):
            big[i] = i
        shared = {"k": 0}
        def bump():
            shared["k"] += 1
        ts = [threading.Thread(target=bump) for _ in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        """))
    run = run_racewatch(tmp_path, tmp_path / "big.py", options=("--max-memory-mb", "1"))
    assert "budget of 1 MB" in run.report["summary"]["tracking_cut"]


# -- the schema says what racewatch writes: every field declared, nothing else accepted ---


def undeclared(instance, schema: dict, root: dict, path: str = "") -> list[str]:
    """Paths of the object properties in ``instance`` that ``schema`` does not declare."""
    if "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/$defs/"), ref
        return undeclared(instance, root["$defs"][ref.removeprefix("#/$defs/")], root, path)
    for branch in schema.get("oneOf", ()):
        if schemas_type_matches(instance, branch, root):
            return undeclared(instance, branch, root, path)
    missing = []
    if isinstance(instance, dict):
        declared = schema.get("properties", {})
        for name, value in instance.items():
            if name not in declared:
                missing.append(f"{path}/{name}")
            else:
                missing += undeclared(value, declared[name], root, f"{path}/{name}")
    elif isinstance(instance, list) and "items" in schema:
        for i, item in enumerate(instance):
            missing += undeclared(item, schema["items"], root, f"{path}/{i}")
    return missing


def schemas_type_matches(instance, branch: dict, root: dict) -> bool:
    if "$ref" in branch:
        branch = root["$defs"][branch["$ref"].removeprefix("#/$defs/")]
    return (branch.get("type") == "null") == (instance is None)


def corpus_reports(tmp_path: Path) -> list[dict]:
    programs = [EXAMPLES / "registry_racy.py", EXAMPLES / "pool_job_racy.py",
                *sorted((CORPUS / "locks").glob("racy_*.py")),
                CORPUS / "queues" / "racy_two_producers.py",
                CORPUS / "dict_model" / "racy_clear_vs_get.py"]
    reports = []
    for i, program in enumerate(p for p in programs if p.exists()):
        run_dir = tmp_path / str(i)
        run_dir.mkdir()
        reports.append(run_racewatch(run_dir, program).report)
    return reports


def test_every_field_racewatch_writes_is_declared(tmp_path):
    root = schemas.load("report")
    reports = corpus_reports(tmp_path)
    assert sum(len(r["races"]) for r in reports) >= 6
    assert any(a["locks_held"] for r in reports for race in r["races"]
               for a in (race["current"], race["previous"]))
    for report in reports:
        assert undeclared(report, root, root) == []


def test_undeclared_finds_what_it_should():
    root = schemas.load("report")
    assert undeclared({"racewatch": "x", "format": 1, "races": [], "summary": {"new": 1}},
                      root, root) == ["/summary/new"]


@pytest.fixture(scope="module")
def valid_report(tmp_path_factory) -> dict:
    tmp_path = tmp_path_factory.mktemp("valid")
    return run_racewatch(tmp_path, EXAMPLES / "registry_racy.py").report


@pytest.mark.parametrize("change, error", [
    (lambda r: r.update(format=2), "1 was expected"),
    (lambda r: r.pop("format"), "'format' is a required property"),
    (lambda r: r.pop("summary"), "'summary' is a required property"),
    (lambda r: r["races"][0].update(kind="read/read"), "is not one of"),
    (lambda r: r["races"][0]["container"].update(type="tuple"), "is not one of"),
    (lambda r: r["races"][0]["current"]["stack"][0].update(line="15"), "is not of type"),
    (lambda r: r["races"][0].update(count=0), "less than the minimum"),
    (lambda r: r["races"][0]["previous"].pop("thread"), "'thread' is a required property"),
    (lambda r: r["summary"].update(core="rust"), "is not one of"),
])
def test_schema_refuses_what_racewatch_never_writes(valid_report, change, error):
    report = copy.deepcopy(valid_report)
    change(report)
    messages = [e.message for e in schemas.validator("report").iter_errors(report)]
    assert any(error in m for m in messages), messages


def test_additions_stay_valid(valid_report):
    """Format 1 may gain fields: a newer report stays valid under this schema."""
    report = copy.deepcopy(valid_report)
    report["races"][0]["severity"] = {"name": "high"}
    report["races"][0]["current"]["update"] = True
    report["summary"]["something_new"] = 3
    report["new_top_level"] = []
    assert list(schemas.validator("report").iter_errors(report)) == []


def test_log_line_schema_tells_races_from_summaries(valid_report):
    validator = schemas.validator("log-line")
    race = {**valid_report["races"][0], "pid": 12, "format": 1}
    summary = {"racewatch": "0.1.0", "format": 1, "pid": 12,
               "summary": valid_report["summary"]}
    assert validator.is_valid(race) and validator.is_valid(summary)
    assert not validator.is_valid({**race, "format": 2})
    assert not validator.is_valid({k: v for k, v in race.items() if k != "pid"})
    assert not validator.is_valid({**summary, "summary": {}})


# -- the schemas are shipped, and a reader checks the format -------------------------------


def test_schemas_are_files_of_the_installed_package():
    for name in schemas.NAMES:
        schema = schemas.load(name)
        assert schemas.path(name).parent == Path(schemas.__file__).parent
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    with pytest.raises(ValueError, match="no schema named 'sarif'"):
        schemas.path("sarif")


def test_report_refuses_a_newer_format_by_name(tmp_path, valid_report):
    newer = {**valid_report, "format": 2, "racewatch": "9.0"}
    (tmp_path / "new.json").write_text(json.dumps(newer))
    run = racewatch("report", "new.json", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip() == (
        "racewatch: error: new.json: written in format 2 (by racewatch 9.0); this racewatch "
        "reads format 1 and older: upgrade it")
    line = {**valid_report["races"][0], "pid": 5, "format": 3}
    (tmp_path / "new.log").write_text(json.dumps(line) + "\n")
    run = racewatch("report", "new.log", cwd=tmp_path)
    assert run.returncode == 2 and "new.log:1: written in format 3" in run.stderr


def test_report_reads_a_report_written_before_the_format_field(tmp_path, valid_report):
    older = {k: v for k, v in valid_report.items() if k != "format"}
    (tmp_path / "old.json").write_text(json.dumps(older))
    run = racewatch("report", "old.json", "--json", "again.json", cwd=tmp_path)
    assert run.returncode == 66, run.stderr
    again = check_schema(json.loads((tmp_path / "again.json").read_text()))
    assert again["format"] == 1 and len(again["races"]) == len(older["races"])



# -- docs/json-report.md: its example is a real run, its tables name every field -----------

DOC = Path(__file__).parent.parent / "docs" / "json-report.md"
sys.path.insert(0, str(DOC.parent))
import make_samples  # noqa: E402  (docs/make_samples.py: runs the example, normalises)

# What changes from run to run and machine to machine.
VOLATILE_SUMMARY = ("duration_s", "python", "core", "pid", "peak_rss_mb", "started_at")


def documented_example() -> dict:
    block = re.search(r"^```jsonc\n(.*?)^```$", DOC.read_text(), flags=re.S | re.M).group(1)
    return json.loads(re.sub(r"\s+// .*$", "", block, flags=re.M))


def steady(report: dict) -> dict:
    report = copy.deepcopy(report)
    report["racewatch"] = "VERSION"
    for race in report["races"]:
        if race["timeline"]:
            race["timeline"]["previous_time"] = race["timeline"]["current_time"] = 0
            for event in race["timeline"]["previous_events"] + race["timeline"]["current_events"]:
                event["time"] = 0
    for name in VOLATILE_SUMMARY:
        report["summary"][name] = None
    return report


def test_documented_example_is_valid_and_is_what_the_example_writes():
    documented = check_schema(documented_example())
    for sample in sleep_ordered_runs(make_samples.report_sample):
        real = steady(check_schema(sample))
        if real == steady(documented):
            return
    assert steady(documented) == real, "stale: python docs/make_samples.py rewrites it"


def test_documented_tables_name_every_field():
    text = DOC.read_text()
    root = schemas.load("report")
    objects = [root, *root["$defs"].values()]
    names = {name for schema in objects for name in schema.get("properties", {})}
    assert len(names) > 50
    missing = sorted(name for name in names if f"`{name}`" not in text)
    assert missing == []
