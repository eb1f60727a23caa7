"""The attributes corpus: racy programs report their two lines, correct ones stay silent."""

import pytest
from corpus_tools import check_corpus_program, corpus_programs


@pytest.mark.parametrize("program", corpus_programs("attributes"), ids=lambda p: p.stem)
def test_corpus(program, tmp_path):
    check_corpus_program(program, tmp_path)
