"""The dict_model corpus: racy programs report their two lines, correct ones stay silent."""

import pytest
from corpus_tools import CORPUS, check_corpus_program, clean_env, corpus_programs, run_racewatch

PROGRAMS = CORPUS / "dict_model"


@pytest.mark.parametrize("program", corpus_programs("dict_model"), ids=lambda p: p.stem)
def test_corpus(program, tmp_path):
    check_corpus_program(program, tmp_path)


def _lines(race):
    return {race["current"]["stack"][0]["line"], race["previous"]["stack"][0]["line"]}


def _line_of(program, code):
    """The number of the line of ``program`` that starts with ``code``."""
    lines = program.read_text().splitlines()
    return next(i for i, text in enumerate(lines, 1) if text.strip().startswith(code))


def test_a_read_of_every_key_reports_each_key_it_races_with(tmp_path):
    """Both writes race with the items() (one record per writer thread used to hide the
    first); each is reported, with its own key."""
    program = PROGRAMS / "racy_items_after_two_writes.py"
    run = run_racewatch(tmp_path, program)
    assert run.status == 66, run.stderr
    keyed = {race["key"]: _lines(race) for race in run.report["races"]
             if race["location"] == "key"}
    items = _line_of(program, "items = list(d.items())")
    assert keyed == {"1": {_line_of(program, "d[1] = 1"), items},
                     "2": {_line_of(program, "d[2] = 2"), items}}, run.stderr
    assert run.stderr.count("Read of key 1 (items)") == 1
    assert run.stderr.count("Read of key 2 (items)") == 1


def test_an_insert_is_reported_as_an_update_of_the_keys(tmp_path):
    run = run_racewatch(tmp_path, PROGRAMS / "racy_poll_len_of_results.py")
    assert run.status == 66, run.stderr
    (race,) = [r for r in run.report["races"]
               if r["location"] == "keys" and r["current"]["op"] == "len"]
    assert race["kind"] == "write/read"
    assert race["current"]["op"] == "len" and race["current"]["update"] is False
    previous = race["previous"]
    assert previous["op"] == "setitem" and previous["write"] is True
    assert previous["update"] is True and previous["key"] in ("0", "1")
    assert "Read of the keys of the dict (len) by thread T0 'MainThread'" in run.stderr
    assert "Previous update of the keys of the dict (setitem, key " in run.stderr


@pytest.mark.parametrize("how", ["flag", "env", "pyproject"])
def test_report_key_order_makes_distinct_inserts_race(tmp_path, how):
    program = tmp_path / "collect.py"
    program.write_text((PROGRAMS / "ok_insert_distinct_keys.py").read_text())
    quiet = run_racewatch(tmp_path, program)
    assert quiet.status == 0 and quiet.report["races"] == [], quiet.stderr
    options, env = (), clean_env()
    if how == "flag":
        options = ("--report-key-order",)
    elif how == "env":
        env = clean_env(RACEWATCH_OPTIONS="report_key_order=1")
    else:
        (tmp_path / "pyproject.toml").write_text("[tool.racewatch]\nreport_key_order = true\n")
    strict = run_racewatch(tmp_path, program, options=options, env=env)
    assert strict.status == 66, strict.stderr
    races = strict.report["races"]
    assert races and all(r["location"] == "keys" for r in races), strict.stderr
    assert all(r["current"]["update"] and r["previous"]["update"] for r in races)
    assert {line for r in races for line in _lines(r)} == {14}


def test_pop_with_a_default_on_an_empty_dict_hashes_nothing(tmp_path):
    """dict.pop(k, default) on an empty dict returns the default without hashing k: an
    unhashable key is no error there, under racewatch either (while it checks accesses)."""
    program = tmp_path / "pop.py"
    program.write_text(
        "import threading\n"
        "from collections import defaultdict\n"
        "other = threading.Thread(target=lambda: None)\n"
        "other.start()\n"
        "print({}.pop([], 0), defaultdict(list).pop([], 1))\n"
        "try:\n"
        "    {'a': 1}.pop([], 0)\n"
        "except TypeError as exc:\n"
        "    print(exc)\n"
        "other.join()\n")
    run = run_racewatch(tmp_path, program)
    assert run.status == 0, run.stderr
    assert run.stdout == "0 1\nunhashable type: 'list'\n"


def test_each_lookup_of_a_missing_key_meets_the_insert_of_that_key_once(tmp_path):
    """Two threads, unordered after a barrier: one looks up 1,000 keys the dict does not
    hold yet, the other inserts them.  Whichever comes first for a key, the pair races once:
    the counts of the two races add up to the number of keys.  (On a free-threaded build the
    lookup's location goes in without the shadow's lock, while the insert's check holds it;
    both claim a key that has none, so that neither overwrites the other's record.)"""
    program = tmp_path / "meet.py"
    program.write_text(
        "import threading\n"
        "keys = [f'k{i}' for i in range(1000)]\n"
        "table = {}\n"
        "start = threading.Barrier(2)\n"
        "def look():\n"
        "    start.wait()\n"
        "    return sum(1 for k in keys if k in table)\n"
        "def fill():\n"
        "    start.wait()\n"
        "    for k in keys:\n"
        "        table[k] = 1\n"
        "threads = [threading.Thread(target=look), threading.Thread(target=fill)]\n"
        "for t in threads:\n"
        "    t.start()\n"
        "for t in threads:\n"
        "    t.join()\n"
        "print(len(table))\n")
    run = run_racewatch(tmp_path, program)
    assert run.status == 66 and run.stdout == "1000\n", run.stderr
    races = run.report["races"]
    assert {frozenset(_lines(race)) for race in races} == {frozenset({7, 11})}, run.stderr
    assert sum(race["count"] for race in races) == 1000, run.stderr
