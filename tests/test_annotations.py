"""racewatch.release/acquire declare edges racewatch cannot see; racewatch.ignore() hides
accesses.  Each annotated program has an unannotated twin that races."""

import ast

import pytest
from corpus_tools import CORPUS, check_corpus_program, corpus_programs, run_plain, run_racewatch


@pytest.mark.parametrize("program", corpus_programs("annotations"), ids=lambda p: p.stem)
def test_corpus(program, tmp_path):
    check_corpus_program(program, tmp_path)


def code_lines(program):
    """The lines of ``program`` after its docstring."""
    tree = ast.parse(program.read_text())
    return program.read_text().splitlines()[tree.body[0].end_lineno:]


@pytest.mark.parametrize("handoff", ["deque_handoff", "pipe_handoff"])
def test_annotations_are_the_only_difference(handoff):
    ok = code_lines(CORPUS / "annotations" / f"ok_{handoff}.py")
    racy = code_lines(CORPUS / "annotations" / f"racy_{handoff}.py")
    strip = {"import racewatch", ""}
    ok_code = [line for line in ok if "racewatch." not in line and line not in strip]
    racy_code = [line.split("  # RACE")[0] for line in racy if line not in strip]
    assert ok_code == racy_code


def test_annotations_do_nothing_under_plain_python():
    run = run_plain(CORPUS / "annotations" / "ok_pipe_handoff.py")
    assert (run.status, run.stdout, run.stderr) == (0, "rebuild-index\n", "")


def test_ignored_accesses_are_not_reported_as_the_previous_access(tmp_path):
    program = CORPUS / "annotations" / "racy_ignore_ends_with_block.py"
    run = run_racewatch(tmp_path, program)
    [race] = run.report["races"]
    [write] = [race[side] for side in ("current", "previous") if race[side]["write"]]
    frame = write["stack"][0]
    assert frame["function"] == "handle"
    assert "path.upper()" in program.read_text().splitlines()[frame["line"] - 1]
