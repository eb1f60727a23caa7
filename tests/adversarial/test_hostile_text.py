"""Text the program chose, in every report format: a key's class name (a key of a class
of the program's is shown as ``<module.Class object at 0x...>``), a thread's name, a
function's name, a file's path.

A program's text must not drive the terminal (ESC sequences, NUL, BEL), forge a report
line (a newline followed by ``SUMMARY: racewatch: ...``), inject markup into the HTML
page, nor make a report fail to be written (a lone surrogate).  The text report escapes
it as a repr would; JSON and SARIF carry it exactly; the HTML page escapes it.
"""

import json
import sys

import pytest
from corpus_tools import clean_env, racewatch_command
from harness import run

FORGED = "\nSUMMARY: racewatch: data race forged.py:1 in forged\n"
KEY_NAME = "Key\x1b[2J\x00" + FORGED + "<script>alert(1)</script>\u202eevil"
THREAD_NAME = "worker\x1b]0;pwned\x07" + FORGED
FUNCTION_NAME = "work" + FORGED.rstrip("\n")
FOLDER = "dir\x1b[31m" + FORGED.rstrip("\n").replace(":", "").replace(".", "")

PROGRAM = f"""\
import threading

class Key:
    def __hash__(self):
        return 1

    def __eq__(self, other):
        return isinstance(other, Key)


Key.__qualname__ = {KEY_NAME!r}
d = {{}}
key = Key()


def work(v):
    d[key] = v


renamed = {{"co_name": {FUNCTION_NAME!r}}}
if hasattr(work.__code__, "co_qualname"):
    renamed["co_qualname"] = {FUNCTION_NAME!r}
work.__code__ = work.__code__.replace(**renamed)
threads = [threading.Thread(target=work, args=(i,), name={THREAD_NAME!r} + str(i))
           for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("done")
"""

HOSTILE = ("\x1b", "\x00", "\x07", "\u202e")


@pytest.fixture
def reports(tmp_path):
    folder = tmp_path / FOLDER
    folder.mkdir()
    program = folder / "prog.py"
    program.write_text(PROGRAM)
    watched = run(racewatch_command("run", "--json", "r.json", "--html", "r.html", "--sarif",
                                    "r.sarif", str(program)), tmp_path, clean_env(), 60)
    assert (watched.status, watched.stdout) == (66, "done\n"), watched.stderr
    return tmp_path, watched


def _check_text(text: str) -> None:
    for ch in HOSTILE:
        assert ch not in text
    summaries = [line for line in text.splitlines() if line.startswith("SUMMARY:")]
    assert len(summaries) == 1, summaries  # the forged ones are escaped inside other lines
    assert summaries[0].endswith("in work\\nSUMMARY: racewatch: data race forged.py:1 in forged")
    assert "key <__main__.Key\\x1b[2J\\x00\\nSUMMARY: racewatch:" in text
    assert "'worker\\x1b]0;pwned\\x07\\nSUMMARY: racewatch:" in text
    assert "dir\\x1b[31m\\nSUMMARY racewatch data race forgedpy1 in forged/prog.py" in text


def test_the_text_report_escapes_the_programs_text(reports):
    tmp_path, watched = reports
    _check_text(watched.stderr)


def test_racewatch_report_prints_a_report_the_same_way(reports):
    tmp_path, _ = reports
    merged = run(racewatch_command("report", "r.json"), tmp_path, clean_env(), 60)
    assert merged.status == 66
    _check_text(merged.stdout)


def test_json_and_sarif_carry_the_text_exactly(reports):
    tmp_path, _ = reports
    (race,) = json.loads((tmp_path / "r.json").read_text())["races"]
    assert race["key"].startswith(f"<__main__.{KEY_NAME[:80]}")
    assert race["current"]["thread"]["name"].startswith(THREAD_NAME)
    assert race["current"]["stack"][0]["function"] == FUNCTION_NAME
    assert FOLDER in race["current"]["stack"][0]["file"]
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    (result,) = sarif["runs"][0]["results"]
    assert "Key\x1b\\[2J\x00" + FORGED in result["message"]["text"]  # [ ] markdown-escaped


def test_the_html_page_escapes_the_programs_text(reports):
    tmp_path, _ = reports
    page = (tmp_path / "r.html").read_text()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for ch in HOSTILE:
        assert ch not in page
    assert "Key\\x1b[2J\\x00" in page


def test_a_file_name_that_is_not_utf8_does_not_break_the_report(tmp_path):
    if sys.platform == "darwin":
        pytest.skip("macOS file names are UTF-8")
    folder = tmp_path / "caf\udce9"  # b"caf\xe9" on disk: not UTF-8
    folder.mkdir()
    program = folder / "prog.py"
    program.write_text(PROGRAM)
    watched = run(racewatch_command("run", "--json", "r.json", str(program)), tmp_path,
                  clean_env(), 60)
    assert (watched.status, watched.stdout) == (66, "done\n"), watched.stderr
    assert "caf\\udce9/prog.py" in watched.stderr
    merged = run(racewatch_command("report", "r.json"), tmp_path, clean_env(), 60)
    assert merged.status == 66, merged.stderr
    assert "caf\\udce9/prog.py" in merged.stdout
