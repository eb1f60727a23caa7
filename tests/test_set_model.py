"""The sets corpus: racy programs report their two lines, correct ones stay silent; and
what a set race looks like in each report."""

import pytest
from corpus_tools import CORPUS, check_corpus_program, corpus_programs, run_racewatch

PROGRAMS = CORPUS / "sets"


@pytest.mark.parametrize("program", corpus_programs("sets"), ids=lambda p: p.stem)
def test_corpus(program, tmp_path):
    check_corpus_program(program, tmp_path)


def test_check_then_add_names_the_element(tmp_path):
    html = tmp_path / "report.html"
    run = run_racewatch(tmp_path, PROGRAMS / "racy_seen_check_then_add.py",
                        options=("--html", str(html)))
    assert run.status == 66, run.stderr
    on_element = [r for r in run.report["races"] if r["location"] == "element"]
    assert on_element, run.stderr
    race = on_element[0]
    assert race["element"] == "'https://example.org/'" == race["key"]
    assert race["container"]["type"] == "set"
    assert {race["current"]["op"], race["previous"]["op"]} <= {"contains", "add"}
    assert "Location is element 'https://example.org/' of a set created at:" in run.stderr
    page = html.read_text()
    assert "s.add(x)" in page and "x in s" in page


def test_pop_reads_the_members(tmp_path):
    html = tmp_path / "report.html"
    run = run_racewatch(tmp_path, PROGRAMS / "racy_pop_vs_add.py", options=("--html", str(html)))
    assert run.status == 66, run.stderr
    [race] = [r for r in run.report["races"] if r["location"] == "members"]
    pop = race["current"] if race["current"]["op"] == "pop" else race["previous"]
    add = race["previous"] if pop is race["current"] else race["current"]
    assert pop["write"] is False and add["op"] == "add" and add["update"] is True
    assert add["key"] == "4"
    assert "update of the members of the set (add, element 4)" in run.stderr.lower()
    page = html.read_text()
    assert "The location here is the set&#39;s members" in page and "s.pop()" in page


def test_set_of_a_tracked_set_reads_it(tmp_path):
    """``set(s)`` copies from the table, past the set's methods: the rewrite records the
    read there."""
    run = run_racewatch(tmp_path, PROGRAMS / "racy_snapshot_while_update.py")
    assert run.status == 66, run.stderr
    [race] = [r for r in run.report["races"] if r["location"] == "members"]
    assert {race["current"]["op"], race["previous"]["op"]} == {"copy", "ior"}
