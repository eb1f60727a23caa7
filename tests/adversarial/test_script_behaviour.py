"""``racewatch run SCRIPT`` fails where python fails, and in the same words.

python reads its main script with its own file tokenizer, whose encoding errors are not
those of ``compile()``; an uncaught KeyboardInterrupt makes python die of SIGINT.
"""

import pytest
from harness import run_plain, run_watched, without_reports

SOURCES = {
    "undeclared_latin1": b'x = 1\nname = "caf\xe9"\nprint(name)\n',
    "undeclared_latin1_on_line_1": b'caf\xe9 = 1\n',
    "undeclared_latin1_in_a_comment": b'x = 1\n# caf\xe9\nprint(x)\n',
    "undeclared_after_a_cookie_on_line_2": b'x = 1\n# coding: latin-1\nprint("caf\xe9")\n',
    "declared_ascii": b'#!/usr/bin/env python\n# coding: ascii\nx = "caf\xe9"\n',
    "declared_unknown": b'# coding: nonsense\nx = 1\n',
    "declared_latin1_after_a_bom": b'\xef\xbb\xbf# coding: latin-1\nx = 1\n',
    "declared_utf8_not_utf8": b'# coding: utf-8\nprint("caf\xe9")\n',
    "declared_latin1": b'# -*- coding: latin-1 -*-\nprint("caf\xe9")\n',
    "cookie_on_line_2_after_a_comment": b'#!/bin/py\n# coding: latin-1\nprint("caf\xe9")\n',
}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_a_script_python_cannot_decode_fails_as_in_python(name, tmp_path):
    script = tmp_path / f"{name}.py"
    script.write_bytes(SOURCES[name])
    plain = run_plain(script, cwd=tmp_path)
    watched = run_watched(script, cwd=tmp_path)
    assert (watched.status, watched.stdout) == (plain.status, plain.stdout)
    assert without_reports(watched.stderr) == plain.stderr


def test_an_uncaught_keyboard_interrupt_kills_the_process_with_sigint(tmp_path):
    from harness import PROGRAMS, compare

    plain, watched = compare(PROGRAMS / "keyboard_interrupt_uncaught.py", tmp_path)
    assert plain.status == -2
    assert watched.stdout == "interrupting\natexit handlers ran\n"
    assert (tmp_path / "interrupted.txt").read_text() == "written before the interrupt"
    assert watched.stderr.endswith("KeyboardInterrupt\nracewatch: no races found\n")
