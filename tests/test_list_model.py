"""The lists corpus: racy programs report their two lines, correct ones stay silent; what a
list race looks like in each report; and the ``watch`` option."""

import json
import textwrap
import threading

import pytest
from corpus_tools import (
    CORPUS,
    check_corpus_program,
    clean_env,
    corpus_programs,
    run_racewatch,
)

import racewatch

PROGRAMS = CORPUS / "lists"


@pytest.mark.parametrize("program", corpus_programs("lists"), ids=lambda p: p.stem)
def test_corpus(program, tmp_path):
    check_corpus_program(program, tmp_path)


def _lines(race):
    return {race["current"]["stack"][0]["line"], race["previous"]["stack"][0]["line"]}


def test_a_lost_update_names_the_item(tmp_path):
    program = PROGRAMS / "racy_item_augmented_assignment.py"
    run = run_racewatch(tmp_path, program)
    assert run.status == 66, run.stderr
    [race] = run.report["races"]
    assert race["location"] == "item" and race["index"] == 0 and race["key"] == "0"
    assert race["container"]["type"] == "list"
    created = program.read_text().splitlines().index("totals = [0]") + 1
    assert race["container"]["created_at"][0]["line"] == created
    assert {race["current"]["op"], race["previous"]["op"]} <= {"getitem", "setitem"}
    assert "Location is item 0 of a list created at:" in run.stderr
    assert "of item 0 (getitem)" in run.stderr or "of item 0 (setitem)" in run.stderr


def test_items_far_into_a_long_list_are_each_their_own_location(tmp_path):
    # Positions past the small ints, and past the ints kept for positions (65,536): two
    # threads update items next to each other (no race), then the same item (a race).
    program = tmp_path / "far.py"
    program.write_text(textwrap.dedent("""\
        import threading
        counts = [0] * 70_000
        def neighbours(i):
            for _ in range(50):
                counts[i] += 1
        def same_near(i):
            for _ in range(50):
                counts[i] += 1
        def same_far(i):
            for _ in range(50):
                counts[i] += 1
        for pair in [(300, 301), (1023, 1024), (65_535, 65_536)]:
            threads = [threading.Thread(target=neighbours, args=(i,)) for i in pair]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        for same, i in [(same_near, 1500), (same_far, 66_000)]:
            threads = [threading.Thread(target=same, args=(i,)) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        print(sum(counts))
        """))
    run = run_racewatch(tmp_path, program)
    assert run.status == 66, run.stderr
    assert run.stdout == "500\n"
    races = sorted(run.report["races"], key=lambda race: race["index"])
    assert [race["index"] for race in races] == [1500, 66_000]
    assert [_lines(race) for race in races] == [{8}, {11}]


def test_a_position_read_again_after_another_threads_write_is_checked_again(tmp_path):
    # The reader's first reads of item 1 are remembered (its later reads in the same epoch
    # add nothing); the writer then replaces item 1, and the reader's next read of it, in
    # the same epoch, is a read of what an unordered write left: a race of its own line.
    # The threads take turns by polling items 2 and 3, which orders nothing.
    program = tmp_path / "again.py"
    program.write_text(textwrap.dedent("""\
        import threading
        import time
        table = [0, 0, 0, 0]
        def reader():
            total = 0
            for _ in range(3):
                total += table[1]  # first reads
            table[3] = 1
            while table[2] == 0:
                time.sleep(0.005)
            total += table[1]  # read after the write
            print(total)
        def writer():
            while table[3] == 0:
                time.sleep(0.005)
            table[1] = 7  # the write
            table[2] = 1
        threads = [threading.Thread(target=f) for f in (reader, writer)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        """))
    lines = program.read_text().splitlines()
    first, again, write = (next(n for n, line in enumerate(lines, 1) if line.endswith(mark))
                           for mark in ("# first reads", "# read after the write",
                                        "# the write"))
    run = run_racewatch(tmp_path, program)
    assert run.status == 66, run.stderr
    assert run.stdout == "7\n"
    on_item_1 = sorted((race["kind"], race["current"]["stack"][0]["line"],
                        race["previous"]["stack"][0]["line"])
                       for race in run.report["races"] if race.get("index") == 1)
    assert on_item_1 == [("read/write", write, first), ("write/read", again, write)]


def test_an_append_is_an_update_of_the_items(tmp_path):
    html = tmp_path / "report.html"
    run = run_racewatch(tmp_path, PROGRAMS / "racy_poll_len_of_results.py",
                        options=("--html", str(html)))
    assert run.status == 66, run.stderr
    [race] = run.report["races"]
    assert race["location"] == "items" and "index" not in race
    assert race["kind"] == "write/read"
    current, previous = race["current"], race["previous"]
    assert current["op"] == "len" and current["update"] is False
    assert previous["op"] == "append" and previous["update"] is True
    assert previous["key"] in ("0", "1")
    assert "Read of the items of the list (len) by thread T0 'MainThread'" in run.stderr
    assert "Previous update of the items of the list (append, item " in run.stderr
    page = html.read_text()
    assert "l.append(x)" in page and "len(l)" in page
    assert "The location here is the list&#39;s items" in page


def test_pop_writes_the_position_it_removes(tmp_path):
    run = run_racewatch(tmp_path, PROGRAMS / "racy_queue_pop_vs_peek.py")
    assert run.status == 66, run.stderr
    on_item = [r for r in run.report["races"] if r["location"] == "item"]
    assert [r["index"] for r in on_item] == [0], run.stderr
    assert {on_item[0]["current"]["op"], on_item[0]["previous"]["op"]} == {"pop", "getitem"}


@pytest.mark.parametrize("how", ["flag", "env", "pyproject"])
def test_watch_leaves_out_the_kinds_it_does_not_name(tmp_path, how):
    program = tmp_path / "lost_update.py"
    program.write_text((PROGRAMS / "racy_item_augmented_assignment.py").read_text())
    options, env = (), clean_env()
    if how == "flag":
        options = ("--watch", "dict,set")
    elif how == "env":
        env = clean_env(RACEWATCH_OPTIONS="watch=dict,set")
    else:
        (tmp_path / "pyproject.toml").write_text('[tool.racewatch]\nwatch = ["dict", "set"]\n')
    quiet = run_racewatch(tmp_path, program, options=options, env=env)
    assert quiet.status == 0 and quiet.report["races"] == [], quiet.stderr
    assert quiet.report["summary"]["lists_tracked"] == 0
    assert quiet.stdout == "True\n"
    watched = run_racewatch(tmp_path, program, options=("--watch", "list"))
    assert watched.status == 66 and watched.report["summary"]["lists_tracked"] >= 1


def test_a_bad_watch_value_is_a_one_line_error(tmp_path):
    program = tmp_path / "prog.py"
    program.write_text("print('ran')\n")
    run = run_racewatch(tmp_path, program, options=("--watch", "dict,lists"))
    assert run.status == 2 and "ran" not in run.stdout
    [line] = run.stderr.strip().splitlines()
    assert "'watch'" in line and "'lists'" in line and "dict,attr,global,list,set" in line


def test_defaultdict_list_makes_tracked_lists(tmp_path):
    """``groups[k].append(x)``: the lists a defaultdict(list) makes are shared like it."""
    program = tmp_path / "groups.py"
    program.write_text(
        "import threading\n"
        "from collections import defaultdict\n"
        "groups = defaultdict(list)\n"
        "groups['a'].append(0)\n"
        "def add():\n"
        "    groups['a'].append(1)\n"
        "threading.Thread(target=add).start()\n"
        "print(len(groups['a']) >= 1)\n")
    run = run_racewatch(tmp_path, program)
    assert run.status == 66, run.stderr
    [race] = run.report["races"]
    assert race["container"]["type"] == "list" and race["location"] == "items"
    assert _lines(race) == {6, 8}
    assert json.loads(json.dumps(run.report))["summary"]["lists_tracked"] >= 1


INDEX_KEYS = [0, 4, 5, -1, -5, -6, 2**63, -2**63, True, 1.0, "x", None, slice(1, -1), slice(9, 12)]


@pytest.mark.parametrize("key", INDEX_KEYS, ids=repr)
def test_a_tracked_list_is_indexed_as_a_list_is(key):
    """``l[key]``, ``l[key] = v`` and ``del l[key]`` give or raise what list's own do, and
    leave the same items, with the access checked (another thread is alive) or not (the
    slots take an int position apart from other keys)."""
    from racewatch import session
    from racewatch.config import Options
    from racewatch.runtime.tracked import TrackedList

    def outcome(items, op):
        try:
            if op == "get":
                return "got", items[key], list(items)
            if op == "set":
                items[key] = [7] if isinstance(key, slice) else 7
            else:
                del items[key]
            return "done", list(items)
        except Exception as error:   # the same type and message as list's
            return type(error), str(error), list(items)

    expected = {op: outcome([10, 20, 30, 40, 50], op) for op in ("get", "set", "del")}
    assert outcome(TrackedList([10, 20, 30, 40, 50]), "get") == expected["get"]
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    session.start(Options(), instrument=False, print_races=False)
    try:
        other.start()
        for op in ("get", "set", "del"):
            assert outcome(TrackedList([10, 20, 30, 40, 50]), op) == expected[op], op
    finally:
        release.set()
        other.join()
        session.stop()


def test_track_copies_lists_and_sets_made_elsewhere():
    from racewatch import session
    from racewatch.config import Options

    made_by_a_library = [1, 2]
    members = {3}
    session.start(Options(), instrument=False, print_races=False)
    try:
        items, tracked_members = racewatch.track(made_by_a_library), racewatch.track(members)
        assert racewatch.is_tracked(items) and racewatch.is_tracked(tracked_members)
        assert not racewatch.is_tracked(made_by_a_library)
        assert items == made_by_a_library and items is not made_by_a_library
        assert tracked_members == members and type(items).__name__ == "list"

        def grow():
            items.append(3)
            tracked_members.add(4)

        thread = threading.Thread(target=grow)
        thread.start()
        seen = (len(items), len(tracked_members))   # unordered with the thread's updates
        thread.join()
        report = session.current().report()
    finally:
        session.stop()
    assert seen[0] in (2, 3)
    kinds = sorted((r.container.type, r.location) for r in report.races)
    assert kinds == [("list", "items"), ("set", "members")]
    assert made_by_a_library == [1, 2] and members == {3}


def test_appends_from_many_threads_at_once_do_not_race(tmp_path):
    """Appends commute: each records the position it really got, never the one another
    thread's append took meanwhile (without the GIL, two appends that read the length at
    once would both record it)."""
    program = tmp_path / "ok_many_appenders.py"
    program.write_text(textwrap.dedent("""\
        import threading

        events = []
        start = threading.Barrier(4)


        def producer(n):
            mine = events  # a local name for +=, which rebinds it
            start.wait()
            for i in range(20000):
                events.append(i)
                if i % 100 == 0:
                    events.extend([n, i])
                    mine += (n,)


        threads = [threading.Thread(target=producer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(len(events))
        """))
    run = run_racewatch(tmp_path, program)
    assert run.stdout == f"{4 * (20000 + 200 * 3)}\n"
    assert run.report["races"] == [], run.stderr
    assert run.status == 0, run.stderr


def test_many_appends_from_four_threads_at_once_are_no_race(tmp_path):
    """``results.append(x)`` from workers is race-free however often two appends meet (a
    switch interval of a microsecond makes them meet on a GIL build)."""
    program = tmp_path / "appends.py"
    program.write_text(
        "import sys\nimport threading\n\n"
        "sys.setswitchinterval(1e-6)\n"
        "results = []\nstart = threading.Barrier(4)\n\n\n"
        "def work():\n    start.wait()\n    for i in range(20000):\n"
        "        results.append(i)\n\n\n"
        "threads = [threading.Thread(target=work) for _ in range(4)]\n"
        "for t in threads:\n    t.start()\nfor t in threads:\n    t.join()\n"
        "print(len(results))\n")
    run = run_racewatch(tmp_path, program)
    assert run.stdout == "80000\n"
    assert run.report["races"] == [], run.stderr
    assert run.status == 0
