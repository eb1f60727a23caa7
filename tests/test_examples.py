"""The examples do what their docstrings say: racy ones race, fixed ones are silent."""

from pathlib import Path

import pytest
from corpus_tools import run_plain, run_racewatch

EXAMPLES = Path(__file__).parent.parent / "examples"


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.stem)
def test_example(example, tmp_path):
    plain = run_plain(example)
    watched = run_racewatch(tmp_path, example)
    assert watched.stdout == plain.stdout
    assert plain.status == 0
    if example.stem.endswith("_racy"):
        assert watched.status == 66, watched.stderr
        assert watched.report["races"]
        for race in watched.report["races"]:
            for side in ("current", "previous"):
                assert race[side]["stack"][0]["file"] == str(example)
    else:
        assert example.stem.endswith("_fixed")
        assert watched.status == 0, watched.stderr
        assert watched.report["races"] == []


def test_every_racy_example_has_its_fix():
    racy = {p.stem.removesuffix("_racy") for p in EXAMPLES.glob("*_racy.py")}
    fixed = {p.stem.removesuffix("_fixed") for p in EXAMPLES.glob("*_fixed.py")}
    assert racy == fixed and len(racy) >= 4
