"""Screenshots of the HTML report for docs/html-report.md, and the 1,000-race measurements.

    python docs/make_screenshots.py

Runs ``racewatch run`` on examples and on a generated program with 1,000 distinct races,
renders their HTML reports, and photographs them in headless Chromium (Debian's
/usr/bin/chromium, driven by Playwright; nothing is downloaded) into docs/screenshots/.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from racewatch.reports import html
from racewatch.reports.model import Report

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}


def many_races_program(n: int = 1000) -> str:
    """Two workers each take their own lock (the wrong-lock bug) around n handlers."""
    handlers = "\n".join(f"def handler_{i}(n):\n    stats['h{i}'] = stats.get('h{i}', 0) + n\n"
                         for i in range(n))
    return textwrap.dedent("""\
        import threading

        stats = {{}}
        locks = [threading.Lock(), threading.Lock()]

        {handlers}
        HANDLERS = [{names}]


        def worker(n):
            for handler in HANDLERS:
                with locks[n]:
                    handler(n)


        threads = [threading.Thread(target=worker, args=(i,), name=f"worker-{{i}}")
                   for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        """).format(handlers=handlers, names=", ".join(f"handler_{i}" for i in range(n)))


def run(program: str, cwd: Path, json_path: Path) -> Report:
    """``racewatch run --json`` on ``program`` (relative to ``cwd``): a racy one exits 66."""
    proc = subprocess.run([sys.executable, "-m", "racewatch", "run", "--json", str(json_path),
                           program], cwd=cwd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 66:
        sys.exit(f"racewatch run {program} exited {proc.returncode}:\n{proc.stderr}")
    return Report.from_json(json.loads(json_path.read_text()))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        pages = {}
        for name in ("registry_racy", "pool_job_racy", "settings_racy"):
            report = run(f"examples/{name}.py", ROOT, tmp / f"{name}.json")
            pages[name] = tmp / f"{name}.html"
            html.write(report, str(pages[name]), strip_path_prefix=f"{ROOT}/")

        program = tmp / "many_races.py"
        program.write_text(many_races_program())
        many = run(program.name, tmp, tmp / "many.json")
        many_page = tmp / "many.html"
        started = time.perf_counter()
        html.write(many, str(many_page), strip_path_prefix=f"{tmp}/")
        rendered = time.perf_counter() - started

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for scheme in ("light", "dark"):
                page = browser.new_page(viewport=VIEWPORT, color_scheme=scheme)
                page.goto(pages["registry_racy"].as_uri())
                page.screenshot(path=OUT / f"report-{scheme}.png", full_page=True)
                page.close()

            # One problem of three races (one missing lock), the first race open on its fix.
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(pages["settings_racy"].as_uri())
            page.evaluate("() => document.querySelectorAll('#race-2, #race-3')"
                          ".forEach(race => { race.open = false; })")
            page.screenshot(path=OUT / "problems.png", full_page=True)
            page.close()

            page = browser.new_page(viewport=VIEWPORT)
            page.goto(pages["pool_job_racy"].as_uri())
            page.locator("#race-1 .lib summary").first.click()
            page.locator("#race-1").screenshot(path=OUT / "race-expanded.png")
            page.emulate_media(media="print")
            page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
            page.screenshot(path=OUT / "report-print.png", full_page=True)
            page.close()

            loads = []
            for _ in range(3):
                page = browser.new_page(viewport=VIEWPORT)
                page.goto(many_page.as_uri(), wait_until="load")
                loads.append(page.evaluate(
                    "() => performance.getEntriesByType('navigation')[0].loadEventEnd"))
                page.close()
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(many_page.as_uri())
            page.screenshot(path=OUT / "thousand-races.png")
            # A collapsed race, opened: its stacks and source come from the shared part.
            page.fill("#f-text", "'h500'")
            race = page.locator("#races > .race:not([hidden])").first
            race.locator("summary").click()
            race.screenshot(path=OUT / "thousand-races-one-open.png")
            page.close()
            browser.close()

        size = many_page.stat().st_size

    print(f"screenshots in {OUT.relative_to(ROOT)}/")
    print(f"{len(many.races):,} races: {size / 1e6:.2f} MB, rendered in {rendered:.2f} s, load "
          f"event after {', '.join(f'{t:.0f}' for t in loads)} ms in headless Chromium")


if __name__ == "__main__":
    main()
