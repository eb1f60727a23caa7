"""The SARIF 2.1.0 report, for code-scanning tools (GitHub, GitLab, VS Code's SARIF viewer)."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from .files import write_atomically
from .model import AccessInfo, Frame, Race, Report, location_words
from .patterns import PATTERNS
from .text import thread_label

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "SRCROOT"
# The key code-scanning tools match results by across runs; the version suffix lets the
# recipe change without every alert looking new.
FINGERPRINT = "racewatch/linePair/v1"

# One rule per pattern (racewatch.reports.patterns), so that code scanning groups the
# results by kind of bug.  RW001, the rule of every race before patterns existed, is the
# pattern that fits every race: a race in a log without a pattern is one of those.
RULE_IDS = {
    "unordered-accesses": "RW001",
    "lost-update": "RW002",
    "check-then-act": "RW003",
    "lazy-initialization": "RW004",
    "iteration-while-changing": "RW005",
    "inconsistent-locking": "RW006",
    "unsynchronized-handoff": "RW007",
}
GENERIC = "unordered-accesses"
_ABOUT = "\n\n" + (
    "Each result shows the later access; the earlier one is its related location, and both "
    "stacks are its code flows. The race is reported whether or not the bad interleaving "
    "happened in this run.")


def _rule(pattern_id: str, title: str, markdown: str) -> dict[str, Any]:
    text = markdown.replace("`", "")
    return {
        "id": RULE_IDS[pattern_id],
        "name": "".join(word.capitalize() for word in pattern_id.split("-")),
        "shortDescription": {"text": f"Data race: {title}"},
        "fullDescription": {"text": text},
        "help": {"text": text + _ABOUT, "markdown": markdown + _ABOUT},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["concurrency", "reliability", "data-race", pattern_id],
                       "precision": "high", "problem.severity": "error"},
    }


RULES = sorted((_rule(*p) for p in PATTERNS), key=lambda rule: rule["id"])
RULE_INDEX = {rule["id"]: i for i, rule in enumerate(RULES)}


class _Locations:
    """Frames as SARIF locations: relative to SRCROOT under it, file:// URIs elsewhere."""

    def __init__(self, srcroot: str):
        self.root = Path(os.path.abspath(srcroot))

    def artifact(self, file: str) -> dict[str, Any]:
        path = Path(file)
        if not path.is_absolute():
            # "<frozen runpy>", "<string>": not a file; kept recognizable, as a relative URI.
            return {"uri": quote(file.replace(os.sep, "/"))}
        try:
            relative = path.relative_to(self.root)
        except ValueError:
            return {"uri": path.as_uri()}
        return {"uri": quote(PurePosixPath(*relative.parts).as_posix()), "uriBaseId": SRCROOT}

    def physical(self, frame: Frame) -> dict[str, Any]:
        return {"artifactLocation": self.artifact(frame.file),
                "region": {"startLine": max(1, frame.line)}}

    def location(self, frame: Frame, message: str | None = None,
                 ident: int | None = None) -> dict[str, Any]:
        loc: dict[str, Any] = {}
        if ident is not None:
            loc["id"] = ident
        loc["physicalLocation"] = self.physical(frame)
        loc["logicalLocations"] = [{"name": frame.function, "kind": "function"}]
        if message:
            loc["message"] = {"text": message}
        return loc


def _access_words(race: Race, access: AccessInfo) -> str:
    verb = "update" if access.update else "write" if access.write else "read"
    if race.whole:
        one = location_words(race.container.type)[0]
        touched = f", {one} {access.key}" if access.key is not None else ""
        container = race.container.phrase("the")
        return f"{verb} of the {race.location} of {container} ({access.op}{touched})"
    return f"{verb} of {race.where()} ({access.op})"


def _thread(access: AccessInfo) -> str:
    return thread_label(access.thread)


def _literal(text: str) -> str:
    """Program data in a message: SARIF reads ``[text](id)`` as a link, so its brackets
    (and backslashes) must be escaped to stay text (SARIF 2.1.0, 3.11.6)."""
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _fingerprint(race: Race, locations: _Locations) -> str:
    # The race's pair of lines, as Race.signature, with paths as the URIs show them so that
    # a checkout in another directory gives the same value.
    ends = sorted(f"{locations.artifact(a.stack[0].file)['uri']}:{a.stack[0].line}"
                  if a.stack else "?:0" for a in (race.previous, race.current))
    return hashlib.sha256("|".join(ends).encode("utf-8")).hexdigest()


def _result(race: Race, locations: _Locations) -> dict[str, Any]:
    later, earlier = race.current, race.previous
    later_top = later.stack[0] if later.stack else Frame("<unknown>", 1, "<unknown>")
    earlier_top = earlier.stack[0] if earlier.stack else Frame("<unknown>", 1, "<unknown>")
    # "[text](1)" links to the related location whose id is 1, in viewers that render it.
    pattern = race.pattern
    what = (f"{pattern.title[:1].upper()}{pattern.title[1:]}: {_literal(pattern.explanation)} "
            f"Fix: {_literal(pattern.fix)}. " if pattern is not None else "")
    rule_id = RULE_IDS.get(pattern.id if pattern is not None else GENERIC, RULE_IDS[GENERIC])
    text = (f"{what}Data race: {_literal(_access_words(race, later))} in thread "
            f"{_literal(_thread(later))} races with an earlier "
            f"[{_literal(_access_words(race, earlier))}](1) in thread "
            f"{_literal(_thread(earlier))}; seen {race.count} "
            f"time{'s' if race.count != 1 else ''}.")
    flows = []
    stacks = []
    for access, role in ((earlier, "earlier"), (later, "later")):
        what = f"{role} access: {_access_words(race, access)} in thread {_thread(access)}"
        # A thread flow runs from the thread's entry to the access: outermost frame first.
        flows.append({
            "id": f"T{access.thread.id}",
            "message": {"text": what},
            "locations": [{"location": locations.location(f, f.function),
                           "nestingLevel": depth}
                          for depth, f in enumerate(reversed(access.stack))],
        })
        # A SARIF stack is innermost frame first, as racewatch records it.
        stacks.append({"message": {"text": what},
                       "frames": [{"location": locations.location(f),
                                   "threadId": access.thread.id} for f in access.stack]})
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": RULE_INDEX[rule_id],
        "level": "error",
        "kind": "fail",
        "message": {"text": text},
        "locations": [locations.location(later_top)],
        "relatedLocations": [locations.location(
            earlier_top, f"earlier {_access_words(race, earlier)} in thread {_thread(earlier)}",
            ident=1)],
        "partialFingerprints": {FINGERPRINT: _fingerprint(race, locations)},
        "occurrenceCount": max(1, race.count),
        "stacks": stacks,
        "properties": {"kind": race.kind, "location": race.location, "key": race.key,
                       "container": race.container.type, "tests": list(race.tests),
                       "pattern": pattern.id if pattern is not None else None},
    }
    if all(a.stack for a in (earlier, later)):
        result["codeFlows"] = [{"message": {"text": "the two unordered accesses"},
                                "threadFlows": flows}]
    return result


def render(report: Report, *, srcroot: str | None = None) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log: one run, a rule per pattern, a result per distinct
    race."""
    locations = _Locations(srcroot if srcroot is not None else os.getcwd())
    summary = report.summary
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if summary.command:
        invocation["commandLine"] = shlex.join(summary.command)
        invocation["arguments"] = list(summary.command)
    notes = []
    if summary.tracking_cut:
        notes.append({"level": "warning", "message": {"text": summary.tracking_cut}})
    if notes:
        invocation["toolExecutionNotifications"] = notes
    root_uri = locations.root.as_uri()
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "racewatch",
                "version": report.version or "0",
                "rules": RULES,
            }},
            "originalUriBaseIds": {SRCROOT: {"uri": root_uri.rstrip("/") + "/"}},
            "invocations": [invocation],
            "columnKind": "unicodeCodePoints",
            "results": [_result(race, locations) for race in report.races],
            "properties": {"summary": summary.to_json()},
        }],
    }


def write(report: Report, path: str, *, srcroot: str | None = None) -> None:
    """Write the SARIF log atomically: a code-scanning upload never reads half a file."""
    write_atomically(path, json.dumps(render(report, srcroot=srcroot), indent=2,
                                      ensure_ascii=False) + "\n")
