"""The samples of racewatch's output in the documentation, from real runs.

    python docs/make_samples.py

Runs ``racewatch run examples/registry_racy.py`` and rewrites, as if the clone were in
/home/me/racewatch: the README's "What a report looks like" (what a terminal shows: the
races, the program's output, the closing line) and the annotated report of
docs/json-report.md (the same run's ``--json``).  tests/test_readme.py and
tests/test_json_schema.py fail when either no longer matches what racewatch prints: run
this, then read the diff (the annotations and the notes around the samples may need a
word changed).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
JSON_DOC = ROOT / "docs" / "json-report.md"
EXAMPLE = "examples/registry_racy.py"
SAMPLE_ROOT = "/home/me/racewatch"
SAMPLE_PID = 6489
COMMAND_LINE = f"$ racewatch run {EXAMPLE}"
WIDTH = 112

# Comments of the annotated report, by JSON path; the numbers refer to the notes under it.
ANNOTATIONS = {
    ("racewatch",): "the version that wrote it",
    ("format",): "(1) check this before reading on",
    ("races", 0, "kind"): "(2) previous/current: which of the two wrote",
    ("races", 0, "key"): "the key's repr",
    ("races", 0, "location"): "one key of the defaultdict",
    ("races", 0, "current", "op"): "handlers[event] found the key...",
    ("races", 0, "previous", "op"): "...that T1 had inserted (a defaultdict miss)",
    ("races", 0, "count"): "(3) times this pair of lines raced in the run",
    ("races", 0, "tests"): "pytest node ids, under pytest --racewatch",
    ("races", 0, "timeline"): "(4) what each thread did in between",
    ("races", 0, "timeline", "current_events", 0, "kind"):
        "T2 began: it took in T0's past, not T1's",
    ("races", 1, "key"): "(5) the keys location: its set of keys, size and order",
    ("races", 1, "current", "op"): "describe() iterated the keys...",
    ("races", 1, "previous", "key"): "...after this insert, unordered with it",
    ("races", 1, "timeline", "current_events"): "the main thread acquired nothing since",
    ("races", 0, "pattern", "id"): "(6) what kind of bug it is, and how to fix it",
    ("races", 0, "pattern", "fix_at"): "the lines to change; the first is the root",
    ("summary", "problems"): "races grouped by pattern and root",
    ("summary", "suppressed_races"): "distinct races hidden by suppressions",
    ("summary", "core"): 'the compiled core; "python": the pure-Python one',
    ("summary", "mode"): "racewatch run, pytest, staging or api",
}


def normalise(text: str, root: Path = ROOT) -> str:
    """As if run from a clone in SAMPLE_ROOT, by process SAMPLE_PID."""
    text = text.replace(f"{root}/", f"{SAMPLE_ROOT}/")
    return re.sub(r"\(pid=\d+\)", f"(pid={SAMPLE_PID})", text)


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RACEWATCH") or k == "RACEWATCH_CORE"}
    # As in a terminal: the program's own output between the races and the closing line.
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_example(json_path: Path | None = None) -> subprocess.CompletedProcess:
    """``racewatch run [--json PATH] examples/registry_racy.py`` from the clone's root,
    stdout and stderr in one stream as a terminal shows them."""
    options = ["--json", str(json_path)] if json_path is not None else []
    return subprocess.run([sys.executable, "-m", "racewatch", "run", *options, EXAMPLE],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          cwd=ROOT, env=environment(), timeout=120)


def terminal_sample() -> str:
    """What the README shows: the command line, then what it printed."""
    return f"{COMMAND_LINE}\n{normalise(run_example().stdout)}"


def report_sample() -> dict:
    """The example's JSON report, as if from SAMPLE_ROOT."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.json"
        run_example(path)
        report = json.loads(normalise(path.read_text()))
    report["summary"]["pid"] = SAMPLE_PID
    return report


def annotate(report: dict) -> str:
    """The report as compact JSON (a small object on one line) with the ANNOTATIONS as
    ``//`` comments; every annotated path must be in the report."""
    used: set[tuple] = set()

    def value(v, path: tuple, indent: int, prefix: int) -> list[str]:
        one = json.dumps(v, ensure_ascii=False)
        nested = [p for p in ANNOTATIONS if p[:len(path)] == path and len(p) > len(path)]
        if not isinstance(v, (dict, list)) or not v or (
                indent + prefix + len(one) <= WIDTH and not nested):
            return [one]
        pad = " " * (indent + 2)
        items = v.items() if isinstance(v, dict) else enumerate(v)
        lines = ["{" if isinstance(v, dict) else "["]
        last = len(v) - 1
        for i, (k, item) in enumerate(items):
            head = f"{pad}{json.dumps(k)}: " if isinstance(v, dict) else pad
            body = value(item, (*path, k), indent + 2, len(head) - indent - 2)
            body[0] = head + body[0]
            if i != last:
                body[-1] += ","
            comment = ANNOTATIONS.get((*path, k))
            if comment is not None:
                used.add((*path, k))
                body[0] = f"{body[0]:<34}  // {comment}"
            lines += body
        lines.append(" " * indent + ("}" if isinstance(v, dict) else "]"))
        return lines

    text = "\n".join(value(report, (), 0, 0)) + "\n"
    missing = set(ANNOTATIONS) - used
    if missing:
        raise ValueError(f"annotated paths not in the report: {sorted(missing)}")
    return text


def replace_block(path: Path, opening: str, new: str) -> None:
    """Replace the body of the fenced block that starts with ``opening`` in ``path``."""
    text = path.read_text()
    start = text.index(opening) + len(opening)
    end = text.index("```\n", start)
    path.write_text(text[:start] + new + text[end:])


def main() -> None:
    replace_block(README, "```console\n", terminal_sample())
    replace_block(JSON_DOC, "```jsonc\n", annotate(report_sample()))
    print(f"rewrote the samples of {README.name} and {JSON_DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
