"""The README shows what racewatch really prints, and says what the tests need."""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
from pathlib import Path

from corpus_tools import TIMEOUT, clean_env, sleep_ordered_runs

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
sys.path.insert(0, str(ROOT / "docs"))
import make_samples  # noqa: E402  (docs/make_samples.py: runs the example, normalises)


def section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def code_blocks(text: str) -> list[str]:
    return re.findall(r"^```[a-z]*\n(.*?)^```$", text, flags=re.S | re.M)


def test_the_report_sample_is_what_the_example_prints():
    block = code_blocks(section("What a report looks like"))[0]
    assert block.startswith(make_samples.COMMAND_LINE + "\n")
    attempts = []
    for sample in sleep_ordered_runs(make_samples.terminal_sample):
        attempts.append(sample)
        if sample == block:
            return
    diff = difflib.unified_diff(block.splitlines(), attempts[0].splitlines(), "README",
                                "racewatch run", lineterm="")
    raise AssertionError("the README's sample is stale (python docs/make_samples.py "
                         "rewrites it):\n" + "\n".join(diff))


def test_the_sample_notes_are_true():
    text = section("What a report looks like")
    assert "racewatch: 2 races found" in text
    stripped = subprocess.run(
        [sys.executable, "-m", "racewatch", "run", "--strip-path-prefix", f"{ROOT}/",
         "examples/registry_racy.py"],
        capture_output=True, text=True, cwd=ROOT, env=clean_env(), timeout=TIMEOUT)
    assert "`--strip-path-prefix \"$PWD/\"` prints `examples/registry_racy.py:18`" in text
    assert "#0 register examples/registry_racy.py:18\n" in stripped.stderr


def test_quick_start_says_what_the_browser_tests_need():
    quick = " ".join(section("Quick start").split())
    assert "Chromium" in quick and "apt-get install chromium" in quick
    browser_tests = (ROOT / "tests" / "test_html_browser.py").read_text()
    assert '"/usr/bin/chromium")' in browser_tests and "/usr/bin/chromium" in quick


def test_pytest_says_why_the_browser_tests_skip():
    """Without Chromium the quick start's pytest names the reason, not only "10 skipped"."""
    env = {k: v for k, v in clean_env().items() if not k.startswith("PYTEST_")}
    env["RACEWATCH_TEST_CHROMIUM"] = "/nonexistent/chromium"
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                          "tests/test_html_browser.py"],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=TIMEOUT)
    assert run.returncode == 0, run.stdout
    skipped = re.search(r"(\d+) skipped", run.stdout)
    assert skipped and int(skipped.group(1)) >= 10, run.stdout
    assert re.search(r"^SKIPPED \[\d+\] tests/test_html_browser.py:\d+: no Chromium at "
                     r"/nonexistent/chromium \(apt-get install chromium\)$", run.stdout,
                     flags=re.M), run.stdout


def test_troubleshooting_names_only_real_flags_options_and_fields():
    text = section("Troubleshooting")
    for title in ("No races found", "A module is not instrumented", "A slow run",
                  "A report too big"):
        assert f"**{title}" in text
    helps = "\n".join(subprocess.run([sys.executable, *argv], capture_output=True, text=True,
                                     env=clean_env(), timeout=TIMEOUT).stdout
                      for argv in (["-m", "racewatch", "run", "--help"],
                                   ["-m", "pytest", "--help"],
                                   ["-m", "pip", "install", "--help"]))
    flags = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", text))
    assert {"--include", "--exclude", "--stack-depth", "--racewatch-include"} <= flags
    assert [f for f in flags if not re.search(rf"(?<![\w-]){f}\b", helps)] == []

    from racewatch.config import OPTION_NAMES
    from racewatch.reports import schemas

    report = schemas.load("report")
    fields = {n for s in [report, *report["$defs"].values()] for n in s.get("properties", {})}
    names = set(re.findall(r"`([a-z]+_[a-z_]+)`", text))
    assert {"max_memory_mb", "tracking_cut", "dicts_tracked"} <= names
    assert names - set(OPTION_NAMES) - fields == set()
    import racewatch

    for api in re.findall(r"`racewatch\.([a-z_]+)\(", text):
        assert callable(getattr(racewatch, api)), api
