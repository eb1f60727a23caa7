"""The SARIF report: what code-scanning tools (GitHub, GitLab, VS Code) read from it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from corpus_tools import clean_env, run_racewatch
from test_html import make_keys_race, make_race, make_report, write_source

from racewatch.reports import sarif
from racewatch.reports.model import Frame
from racewatch.reports.patterns import PATTERNS

EXAMPLES = Path(__file__).parent.parent / "examples"

_MESSAGE = {"type": "object", "required": ["text"],
            "properties": {"text": {"type": "string", "minLength": 1}}}
_LOCATION = {
    "type": "object",
    "required": ["physicalLocation"],
    "properties": {
        "id": {"type": "integer", "minimum": -1},
        "message": _MESSAGE,
        "physicalLocation": {
            "type": "object",
            "required": ["artifactLocation", "region"],
            "properties": {
                "artifactLocation": {
                    "type": "object", "required": ["uri"],
                    "properties": {"uri": {"type": "string", "minLength": 1},
                                   "uriBaseId": {"type": "string"}}},
                "region": {"type": "object", "required": ["startLine"],
                           "properties": {"startLine": {"type": "integer", "minimum": 1}}},
            },
        },
    },
}
# The parts of the SARIF 2.1.0 schema (sarif-schema-2.1.0.json) that code-scanning consumers
# require, written out by hand: nothing is fetched from the network.
MINIMAL_SCHEMA = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["tool", "results"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {
                    "driver": {"type": "object", "required": ["name", "rules"], "properties": {
                        "name": {"type": "string"},
                        "rules": {"type": "array", "items": {
                            "type": "object", "required": ["id", "shortDescription"],
                            "properties": {"id": {"type": "string"},
                                           "shortDescription": _MESSAGE,
                                           "fullDescription": _MESSAGE}}}}}}},
                "originalUriBaseIds": {"type": "object", "additionalProperties": {
                    "type": "object", "required": ["uri"],
                    "properties": {"uri": {"type": "string", "pattern": "^file:///.*/$"}}}},
                "results": {"type": "array", "items": {
                    "type": "object",
                    "required": ["ruleId", "message", "locations"],
                    "properties": {
                        "ruleId": {"type": "string"},
                        "ruleIndex": {"type": "integer", "minimum": 0},
                        "level": {"enum": ["none", "note", "warning", "error"]},
                        "kind": {"enum": ["notApplicable", "pass", "fail", "review", "open",
                                          "informational"]},
                        "message": _MESSAGE,
                        "locations": {"type": "array", "minItems": 1, "items": _LOCATION},
                        "relatedLocations": {"type": "array", "items": _LOCATION},
                        "partialFingerprints": {"type": "object",
                                                "additionalProperties": {"type": "string"}},
                        "occurrenceCount": {"type": "integer", "minimum": 1},
                        "codeFlows": {"type": "array", "items": {
                            "type": "object", "required": ["threadFlows"], "properties": {
                                "threadFlows": {"type": "array", "minItems": 1, "items": {
                                    "type": "object", "required": ["locations"], "properties": {
                                        "locations": {"type": "array", "minItems": 1,
                                                      "items": {"type": "object", "properties": {
                                                          "location": _LOCATION}}}}}}}}},
                        "stacks": {"type": "array", "items": {
                            "type": "object", "required": ["frames"], "properties": {
                                "message": _MESSAGE,
                                "frames": {"type": "array", "items": {
                                    "type": "object", "properties": {
                                        "location": _LOCATION,
                                        "threadId": {"type": "integer"}}}}}}},
                    },
                }},
            },
        }},
    },
}


def check(log: dict) -> None:
    """The log passes the minimal schema, when jsonschema is there to check it."""
    try:
        import jsonschema
    except ImportError:
        return
    jsonschema.validate(log, MINIMAL_SCHEMA)


def physical(location: dict) -> tuple[str, str | None, int]:
    phys = location["physicalLocation"]
    art = phys["artifactLocation"]
    return art["uri"], art.get("uriBaseId"), phys["region"]["startLine"]


def test_log_has_one_tool_a_rule_per_pattern_and_a_result_per_race(tmp_path):
    source = write_source(tmp_path)
    report = make_report([make_race(source), make_keys_race(source)])
    log = sarif.render(report, srcroot=str(tmp_path))
    check(log)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "racewatch" and driver["version"] == "0.1.0"
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [f"RW00{n}" for n in range(1, 8)]
    assert {r["properties"]["tags"][-1] for r in rules} == {p[0] for p in PATTERNS}
    for rule in rules:
        assert rule["shortDescription"]["text"].startswith("Data race: ")
        assert rule["fullDescription"]["text"] and rule["help"]["markdown"]
        assert rule["defaultConfiguration"]["level"] == "error"
    assert run["originalUriBaseIds"] == {"SRCROOT": {"uri": tmp_path.as_uri() + "/"}}
    assert run["invocations"][0]["commandLine"] == "app.py --fast"
    assert len(run["results"]) == 2
    for result in run["results"]:
        # Races built without a pattern (a log written before patterns existed) are the
        # generic rule's, RW001 as before.
        assert result["ruleId"] == "RW001" and result["ruleIndex"] == 0
        assert result["level"] == "error"


def test_result_is_at_the_later_access_with_the_earlier_one_related(tmp_path):
    source = write_source(tmp_path)
    race = make_race(source, count=4)
    (result,) = sarif.render(make_report([race]), srcroot=str(tmp_path))["runs"][0]["results"]
    assert physical(result["locations"][0]) == ("shop.py", "SRCROOT", race.current.stack[0].line)
    assert result["locations"][0]["logicalLocations"] == [{"name": "reserve",
                                                           "kind": "function"}]
    (related,) = result["relatedLocations"]
    assert related["id"] == 1
    assert physical(related) == ("shop.py", "SRCROOT", race.previous.stack[0].line)
    assert "earlier write of key 'apple' (setitem) in thread T1 'worker-1'" in \
        related["message"]["text"]
    text = result["message"]["text"]
    assert text.startswith("Data race: read of key 'apple' (get) in thread T2 'worker-2' races "
                           "with an earlier [write of key 'apple' (setitem)](1) in thread "
                           "T1 'worker-1'")
    assert "seen 4 times" in text
    assert result["occurrenceCount"] == 4
    assert result["properties"]["tests"] == [] and result["properties"]["key"] == "'apple'"


def test_both_stacks_are_code_flows_and_stacks(tmp_path):
    source = write_source(tmp_path)
    race = make_race(source)
    (result,) = sarif.render(make_report([race]), srcroot=str(tmp_path))["runs"][0]["results"]
    (flow,) = result["codeFlows"]
    earlier, later = flow["threadFlows"]
    assert (earlier["id"], later["id"]) == ("T1", "T2")
    # A thread flow runs from the outermost frame to the access.
    assert [physical(loc["location"])[2] for loc in earlier["locations"]] == \
        [f.line for f in reversed(race.previous.stack)]
    assert [loc["nestingLevel"] for loc in later["locations"]] == [0, 1]
    assert physical(later["locations"][-1]["location"])[2] == race.current.stack[0].line
    # A SARIF stack is innermost frame first.
    stacks = result["stacks"]
    assert [[physical(f["location"])[2] for f in s["frames"]] for s in stacks] == \
        [[f.line for f in race.previous.stack], [f.line for f in race.current.stack]]
    assert {f["threadId"] for f in stacks[1]["frames"]} == {2}
    assert stacks[0]["message"]["text"].startswith("earlier access: write")


def test_files_outside_the_source_root_are_file_uris(tmp_path):
    source = write_source(tmp_path / "elsewhere")
    root = tmp_path / "project"
    root.mkdir()
    log = sarif.render(make_report([make_race(source)]), srcroot=str(root))
    check(log)
    location = log["runs"][0]["results"][0]["locations"][0]
    uri, base, _ = physical(location)
    assert base is None and uri == Path(source).as_uri()
    # The library frame of the later stack too.
    frames = log["runs"][0]["results"][0]["stacks"][1]["frames"]
    assert physical(frames[1]["location"])[0].startswith("file:///")


def test_uris_are_percent_encoded(tmp_path):
    source = write_source(tmp_path / "my project", "a b#c.py")
    log = sarif.render(make_report([make_race(source)]), srcroot=str(tmp_path))
    uri, base, _ = physical(log["runs"][0]["results"][0]["locations"][0])
    assert (uri, base) == ("my%20project/a%20b%23c.py", "SRCROOT")


def test_fingerprints_follow_the_pair_of_lines_not_the_checkout(tmp_path):
    races = {}
    for checkout in ("one", "two"):
        source = write_source(tmp_path / checkout)
        log = sarif.render(make_report([make_race(source), make_race(source, key="'x'"),
                                        make_keys_race(source)]),
                           srcroot=str(tmp_path / checkout))
        races[checkout] = [r["partialFingerprints"] for r in log["runs"][0]["results"]]
    assert races["one"] == races["two"]
    same_lines, other_key, keys = races["one"]
    assert same_lines == other_key           # one race: the same pair of lines
    assert same_lines != keys
    assert list(same_lines) == ["racewatch/linePair/v1"]


def test_message_brackets_from_the_program_stay_text(tmp_path):
    source = write_source(tmp_path)
    race = make_race(source, key="'[evil](2)'")
    log = sarif.render(make_report([race]), srcroot=str(tmp_path))
    text = log["runs"][0]["results"][0]["message"]["text"]
    assert "'\\[evil\\](2)'" in text
    assert text.count("](") - text.count("\\](") == 1     # the one real link, to (1)


def test_keys_location_and_an_empty_stack(tmp_path):
    source = write_source(tmp_path)
    race = make_keys_race(source)
    race.previous.stack = []
    log = sarif.render(make_report([race]), srcroot=str(tmp_path))
    check(log)
    (result,) = log["runs"][0]["results"]
    assert "read of the keys of the defaultdict (len)" in result["message"]["text"]
    assert "codeFlows" not in result
    assert result["properties"]["location"] == "keys"


def test_tracking_cut_is_a_notification(tmp_path):
    report = make_report([], tracking_cut="tracking cut 3.0 s into the run")
    log = sarif.render(report, srcroot=str(tmp_path))
    check(log)
    (note,) = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note == {"level": "warning", "message": {"text": "tracking cut 3.0 s into the run"}}
    assert log["runs"][0]["results"] == []


def test_default_source_root_is_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    log = sarif.render(make_report([make_race(write_source(tmp_path))]))
    assert log["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"] == tmp_path.as_uri() + "/"


def test_write_is_atomic_json(tmp_path):
    report = make_report([make_race(write_source(tmp_path))])
    out = tmp_path / "out" / "racewatch.sarif"
    sarif.write(report, str(out), srcroot=str(tmp_path))
    assert json.loads(out.read_text()) == sarif.render(report, srcroot=str(tmp_path))
    assert os.listdir(out.parent) == ["racewatch.sarif"]


@pytest.mark.parametrize("example", ["counter_racy", "pool_job_racy"])
def test_racewatch_run_writes_sarif(example, tmp_path):
    out = tmp_path / "report.sarif"
    program = EXAMPLES / f"{example}.py"
    run = run_racewatch(tmp_path, program, env=clean_env(RACEWATCH_OPTIONS=f"sarif={out}"))
    assert run.status == 66, run.stderr
    log = json.loads(out.read_text())
    check(log)
    results = log["runs"][0]["results"]
    assert len(results) == len(run.report["races"])
    for result, race in zip(results, run.report["races"], strict=True):
        # racewatch runs in the example's directory: that is the source root.
        assert physical(result["locations"][0]) == (
            program.name, "SRCROOT", race["current"]["stack"][0]["line"])
        assert result["occurrenceCount"] == race["count"]


def test_frame_that_is_not_a_file(tmp_path):
    race = make_race(write_source(tmp_path))
    race.current.stack = [Frame("<string>", 3, "<module>")]
    log = sarif.render(make_report([race]), srcroot=str(tmp_path))
    check(log)
    uri, base, line = physical(log["runs"][0]["results"][0]["locations"][0])
    assert (uri, base, line) == ("%3Cstring%3E", None, 3)
