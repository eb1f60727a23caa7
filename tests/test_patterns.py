"""What kind of bug each race is: the engine keeps the evidence, the rules decide, every
report says it."""

import json
import re
import subprocess
import threading
import time
from collections import Counter

import pytest
from corpus_tools import (
    CORPUS,
    TIMEOUT,
    check_schema,
    clean_env,
    expected_pattern,
    racewatch_command,
    run_racewatch,
)

import racewatch
from racewatch import session

try:
    from racewatch import _core as compiled
except ImportError:
    compiled = None
from racewatch.config import Options
from racewatch.reports.model import (
    AccessInfo,
    Container,
    Frame,
    LockRef,
    Race,
    ThreadRef,
    location_words,
    problems,
)
from racewatch.reports.output import Output
from racewatch.reports.patterns import PATTERNS, RANK, category, classify
from racewatch.runtime import objects, unset
from racewatch.runtime.settings import SETTINGS


@pytest.fixture
def conflicts():
    """The detector on, every Conflict the engine finds kept (and handed on to the race
    table as usual)."""
    active = session.start(Options(), instrument=False, print_races=False)
    found = []

    def sink(conflict):
        found.append(conflict)
        active.table.on_conflict(conflict)

    SETTINGS.sink = sink
    try:
        yield found
    finally:
        session.stop()


def in_turn(*steps):
    """Run each step in a thread of its own, one after the other in time, with nothing that
    orders them (sleeping on a plain flag is not synchronization)."""
    done = []

    def run(i, step):
        while len(done) < i:
            time.sleep(0.001)
        step()
        done.append(i)

    threads = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate(steps)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_a_write_carries_its_threads_own_check_of_the_key(conflicts):
    d = racewatch.track({})

    def first():
        d["k"] = 1

    def second():
        if "k" not in d or True:
            d["k"] = 2

    in_turn(first, second)
    writes = [c for c in conflicts if c.current.write]
    assert [c.current.op for c in writes] == ["setitem"]
    prior = writes[0].current_prior
    assert prior is not None and prior.op == "contains" and not prior.write
    assert (prior.slot, prior.clock) == (writes[0].current.slot, writes[0].current.clock)
    reads = [c for c in conflicts if not c.current.write]
    assert [c.current.op for c in reads] == ["contains"]
    assert reads[0].current_prior is None


def test_an_insert_carries_its_threads_own_read_of_the_keys(conflicts):
    d = racewatch.track({"a": 1})

    def first():
        len(d)

    def second():
        if len(d) < 10:
            d["new"] = 2

    in_turn(first, second)
    (c,) = [c for c in conflicts if c.on_keys]
    assert (c.previous.op, c.current.op) == ("len", "setitem")
    assert c.current_prior is not None and c.current_prior.op == "len"
    assert c.current_prior.slot == c.current.slot


def test_a_read_before_a_release_is_not_the_writes_check(conflicts):
    d = racewatch.track({})
    lock = threading.Lock()

    def first():
        d["k"] = 1

    def second():
        "k" in d  # noqa: B015 -- the check
        with lock:   # its release ends the epoch: the write is not the act of that check
            pass
        d["k"] = 2

    in_turn(first, second)
    (write,) = [c for c in conflicts if c.current.write]
    assert write.current_prior is None


class Lazy:
    """A class of the test module, watched as instrumented code's are (hooked by hand)."""

    def __init__(self):
        self.conn = None
        self.balance = 100


def test_a_read_that_finds_an_attribute_unset_is_remembered(conflicts):
    """The evidence of a lazy initialization: the value the check read, which the accesses
    do not show (``if self.balance >= n`` and ``if self.conn is None`` look alike)."""
    objects.track_class(Lazy)
    objects.hook_class(Lazy)
    shared = Lazy()

    def check():
        objects.access(shared, "conn", "getattr", False, shared.conn is None)
        objects.access(shared, "balance", "getattr", False, shared.balance is None)
        objects.access(shared, "missing", "getattr", False, True)

    in_turn(lambda: None, check)
    sh = objects.shadow_of(shared)
    assert unset.seen_unset(sh, "conn") and unset.seen_unset(sh, "missing")
    assert not unset.seen_unset(sh, "balance")
    assert not unset.seen_unset(sh, ["unhashable"])


# -- the rules, on races built by hand -------------------------------------------------------

APP = "/srv/app/shop.py"
MADE = [Frame(APP, 3, "<module>")]


def side(op, write, line, function="work", locks=(), key=None, update=False, tid=1):
    held = [LockRef(name, [Frame(APP, 5 + i, "<module>")]) for i, name in enumerate(locks)]
    return AccessInfo(op, write, ThreadRef(f"worker-{tid}", tid), held,
                      [Frame(APP, line, function)], key, update)


def race(previous, current, container="dict", key="'stock'", whole=False, name=None):
    one, all_of, _ = location_words(container)
    value = key.strip("'") if container in ("object", "class", "module") else None
    current.thread = ThreadRef("worker-2", 2)
    return Race(f"{'write' if previous.write else 'read'}/{'write' if current.write else 'read'}",
                Container(container, MADE, name), None if whole else key, current, previous,
                location=all_of if whole else one, value=None if whole else value)


def lines(pattern):
    return [f.line for f in pattern.fix_at]


def test_a_read_and_a_write_on_one_line_in_two_threads_is_a_lost_update():
    p = classify(race(side("setitem", True, 10), side("getitem", False, 10)))
    assert p.id == "lost-update" and p.title == "lost update"
    assert "reads key 'stock' and writes it back in one statement at shop.py:10" in p.explanation
    assert p.fix.startswith("make the read-modify-write at shop.py:10 atomic")
    assert lines(p) == [10]


def test_a_write_whose_own_read_is_on_its_line_loses_the_other_threads_write():
    p = classify(race(side("setitem", True, 20, "restock"), side("setitem", True, 10)),
                 prior=side("getitem", False, 10))
    assert p.id == "lost-update"
    assert "while restock writes it at shop.py:20" in p.explanation
    assert lines(p) == [10, 20]


def test_a_defaultdict_miss_in_two_threads_loses_one_default():
    p = classify(race(side("missing", True, 9), side("getitem", False, 9),
                      container="defaultdict"))
    assert p.id == "lost-update" and "the defaultdict inserts a new default" in p.explanation


def test_a_check_and_the_write_after_it_in_one_function_are_a_check_then_act():
    p = classify(race(side("setitem", True, 9), side("contains", False, 8)))
    assert p.id == "check-then-act"
    assert "work checks key 'stock' at shop.py:8 (contains)" in p.explanation
    assert "setdefault('stock', value)" in p.fix and "hold one lock" in p.fix
    assert lines(p) == [9, 8]


def test_a_write_after_its_own_check_is_a_check_then_act():
    p = classify(race(side("setitem", True, 9), side("setitem", True, 9)),
                 prior=side("get", False, 8))
    assert p.id == "check-then-act" and lines(p) == [9, 8]
    assert "work checks key 'stock' at shop.py:8 (get) and then writes it" in p.explanation


def test_a_check_then_delete_offers_pop_with_a_default():
    p = classify(race(side("delitem", True, 14), side("contains", False, 12)))
    assert p.id == "check-then-act" and "pop('stock', None)" in p.fix


def test_a_size_check_then_pop_offers_catching_the_error():
    previous = side("len", False, 12)
    current = side("pop", True, 13, key="2", update=True)
    p = classify(race(previous, current, container="list", key=None, whole=True),
                 prior=side("len", False, 12))
    assert p.id == "check-then-act"
    assert "checks the size of the list at shop.py:12 (len)" in p.explanation
    assert "call pop() and catch the IndexError" in p.fix


def test_a_membership_check_then_append_on_a_list_is_a_check_then_act():
    previous = side("contains", False, 12)
    current = side("append", True, 13, key="4", update=True)
    p = classify(race(previous, current, container="list", key=None, whole=True),
                 prior=side("contains", False, 12))
    assert p.id == "check-then-act" and "inserts 4 into it (append)" in p.explanation


def test_a_read_in_another_function_is_no_check_of_this_write():
    p = classify(race(side("setitem", True, 9, "writer"), side("contains", False, 20, "reader")))
    assert p.id == "unsynchronized-handoff"


def test_a_read_after_the_write_in_one_function_is_no_check():
    p = classify(race(side("getitem", False, 12), side("setitem", True, 10)))
    assert p.id == "unsynchronized-handoff"


def test_lazy_initialization_needs_a_read_that_found_the_attribute_unset():
    made = race(side("setattr", True, 12, "Client.conn"), side("getattr", False, 11, "Client.conn"),
                container="object", key="_conn", name="Client")
    assert classify(made).id == "check-then-act"  # if self.balance >= n: self.balance -= n
    p = classify(made, seen_unset=True)
    assert p.id == "lazy-initialization"
    assert "Client.conn checks Client._conn at shop.py:11 and sets it at shop.py:12 on first use" \
        in p.explanation
    assert p.fix.startswith("set Client._conn before the threads start")
    dict_race = race(side("setitem", True, 12), side("contains", False, 11))
    assert classify(dict_race, seen_unset=True).id == "check-then-act"


def test_iterating_while_another_thread_inserts_names_the_writers_lock():
    writer = side("setitem", True, 9, "register", locks=["Lock#2"], key="'b'", update=True)
    p = classify(race(writer, side("iter", False, 20, "describe"), key=None, whole=True))
    # Also an inconsistent locking: the iteration says how it fails, and its fix names the lock.
    assert p.id == "iteration-while-changing"
    assert "describe iterates over the dict (iter) at shop.py:20 while register inserts 'b'" \
        in p.explanation and "RuntimeError" in p.explanation
    assert "iterate a snapshot taken under the writers' lock, Lock#2 (created at shop.py:5)" \
        in p.fix
    assert lines(p) == [20]


def test_a_lock_on_one_side_only_is_inconsistent_locking():
    p = classify(race(side("setitem", True, 10, "careful", locks=["Lock#1"]),
                      side("setitem", True, 14, "careless")))
    assert p.id == "inconsistent-locking"
    assert p.fix == ("in careless, take Lock#1 (created at shop.py:5) around shop.py:14 too, "
                     "as careful does at shop.py:10")
    assert lines(p) == [14]
    two = classify(race(side("setitem", True, 11, "one", locks=["Lock#1"]),
                        side("setitem", True, 16, "two", locks=["Lock#2"])))
    assert two.id == "inconsistent-locking" and "different locks" in two.explanation


def test_a_lost_update_with_the_lock_on_the_other_side_says_to_take_it():
    p = classify(race(side("setitem", True, 20, "restock", locks=["Lock#1"]),
                      side("setitem", True, 10)), prior=side("getitem", False, 10))
    assert p.id == "lost-update"
    assert p.fix.startswith("in work, take Lock#1 (created at shop.py:5) around shop.py:10 too")


def test_a_flag_read_by_another_thread_is_a_handoff_fixed_with_an_event():
    p = classify(race(side("load", False, 12, "worker"), side("store", True, 20, "<module>"),
                      container="module", key="stopping", name="app"))
    assert p.id == "unsynchronized-handoff"
    assert ("the module's top-level code writes global stopping (store) at shop.py:20 and "
            "worker reads it (load) at shop.py:12") in p.explanation
    assert p.fix.startswith("use a threading.Event, not stopping itself, to say it is ready")
    assert lines(p) == [20, 12]


def test_a_size_read_against_an_insert_is_a_handoff_against_a_delete_unordered():
    insert = side("setitem", True, 15, "work", key="0", update=True)
    delete = side("delitem", True, 15, "work", key="0", update=True)
    size = side("len", False, 21, "<module>")
    assert classify(race(insert, size, key=None, whole=True)).id == "unsynchronized-handoff"
    assert classify(race(delete, size, key=None, whole=True)).id == "unordered-accesses"


def test_two_atomic_operations_are_unordered_accesses_perhaps_harmless():
    p = classify(race(side("setdefault", True, 8, "add"), side("pop", True, 12, "take")))
    assert p.id == "unordered-accesses"
    assert "calls setdefault() on key 'stock'" in p.explanation
    assert "# racewatch: ignore" in p.fix
    both = classify(race(side("setitem", True, 11), side("setitem", True, 11)))
    assert both.id == "unordered-accesses" and "at shop.py:11 in two threads" in both.explanation


def test_an_operation_the_rules_do_not_know_gets_no_specific_pattern():
    unknown = race(side("frobnicate", True, 10), side("frobnicate", False, 10))
    assert classify(unknown).id == "unordered-accesses"
    locked = race(side("frobnicate", True, 10, locks=["Lock#1"]), side("frobnicate", False, 12))
    assert classify(locked).id == "inconsistent-locking"


def test_categories_of_list_and_set_operations():
    assert category(side("append", True, 1, update=True), whole=True) == "insert"
    assert category(side("discard", True, 1, update=True), whole=True) == "delete"
    assert category(side("sort", True, 1), whole=True) == "clear"
    assert category(side("contains", False, 1), whole=True) == "test"
    assert category(side("add", False, 1), whole=True) == "iterate"   # a list's +
    assert category(side("add", True, 1), whole=False) == "insert"    # a set's add
    assert category(side("frobnicate", False, 1), whole=True) is None


def test_the_rank_follows_the_rules():
    ids = [p[0] for p in PATTERNS]
    assert sorted(ids, key=RANK.get, reverse=True) == ids
    assert ids[-1] == "unordered-accesses" and RANK["unordered-accesses"] == 0


def test_problems_group_races_by_pattern_and_root():
    write = side("setitem", True, 9, "publish")
    readers = [race(write, side("getitem", False, line, f"read_{line}")) for line in (20, 30)]
    counter = race(side("setitem", True, 40), side("getitem", False, 40))
    races = [*readers, counter]
    for r in races:
        r.pattern = classify(r)
    groups = problems(races)
    assert [(g.pattern.id, len(g.races)) for g in groups] == [
        ("unsynchronized-handoff", 2), ("lost-update", 1)]
    assert groups[0].pattern.root.line == 9


def test_a_race_seen_again_with_more_of_it_gets_the_more_specific_pattern(conflicts, capsys):
    """The first occurrence is only a read of what another function wrote; the same
    thread's write back, on the line of its read, shows the read-modify-write."""
    d = racewatch.track({"n": 0})

    def deposit():
        d["n"] += 1

    def withdraw():
        d["n"] -= 1

    active = session.current()
    active.output = Output()  # racewatch's stderr, from now on: the one capsys reads
    active._print_races = True
    active.add_listener(active._print_race)
    in_turn(deposit, withdraw)
    (race,) = active.report().races
    first = [c for c in conflicts if not c.current.write][0]
    assert first.current.op == "getitem" and first.previous.op == "setitem"
    assert race.pattern.id == "lost-update"
    assert "withdraw reads key 'n' and writes it back at test_patterns.py:" in \
        race.pattern.explanation
    err = capsys.readouterr().err
    assert "Pattern: unsynchronized hand-off: " in err
    assert "racewatch: seen again, the race between " in err
    refined = err.rstrip().splitlines()[-2]
    assert refined.startswith("  Pattern: lost update: ") and "withdraw reads key 'n'" in refined


def test_a_write_back_keeps_its_read_when_another_write_came_between(conflicts):
    """A thread reads a key, another thread writes it (which takes the read out of the
    location: a write replaces the reads), then the first thread writes the key back: that
    write's race with the other write is still the first thread's check-then-act, since
    the thread remembers its last read."""
    d = racewatch.track({"n": 0})
    steps = []  # a plain list: racewatch sees no edge through it

    def withdraw():
        n = d["n"]  # the check
        steps.append("read")
        while len(steps) < 2:
            time.sleep(0.001)
        d["n"] = n - 1  # the act, after the other thread's write

    def deposit():
        while not steps:
            time.sleep(0.001)
        d["n"] = 5
        steps.append("wrote")

    threads = [threading.Thread(target=f) for f in (withdraw, deposit)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    races = session.current().report().races
    by_pair = {(r.previous.stack[0].function.rsplit(".", 1)[-1],
                r.current.stack[0].function.rsplit(".", 1)[-1]): r for r in races}
    assert sorted(by_pair) == [("deposit", "withdraw"), ("withdraw", "deposit")]
    write_back = by_pair["deposit", "withdraw"]
    assert write_back.previous.write and write_back.current.write
    assert write_back.pattern.id == "check-then-act"
    check = withdraw.__code__.co_firstlineno + 1
    act = check + 4
    assert [f.line for f in write_back.pattern.fix_at] == [act, check]


def test_every_pattern_has_three_programs_in_the_corpus():
    labels = Counter(expected_pattern(p) for p in CORPUS.glob("*/racy_*.py"))
    assert set(labels) == {p[0] for p in PATTERNS}
    assert min(labels.values()) >= 3, labels


SHOP = '''\
"""Two problems, three races: a lost update, and one unlocked write read in two places."""
import threading
import time

stats = {"hits": 0}
config = {"mode": "slow"}


def hit():
    stats["hits"] += 1


def reconfigure():
    config["mode"] = "fast"


def render():
    return config["mode"] == "fast"


def audit():
    return config["mode"] in ("slow", "fast")


workers = [threading.Thread(target=hit) for _ in range(2)]
workers.append(threading.Thread(target=reconfigure))
for t in workers:
    t.start()
time.sleep(0.2)  # not synchronization: the readers below are not ordered after the write
readers = [threading.Thread(target=f) for f in (render, audit)]
for t in readers:
    t.start()
for t in readers + workers:
    t.join()
'''


def line_of(text, code):
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.strip() == code)


@pytest.fixture
def shop(tmp_path):
    program = tmp_path / "shop.py"
    program.write_text(SHOP)
    return program


def test_every_report_says_the_pattern_and_groups_the_problems(shop, tmp_path):
    run = run_racewatch(tmp_path, shop, options=("--sarif", str(tmp_path / "r.sarif"),
                                                 "--html", str(tmp_path / "r.html")))
    assert run.status == 66, run.stderr
    write = line_of(SHOP, 'config["mode"] = "fast"')
    by_id = {}
    for r in run.report["races"]:
        by_id.setdefault(r["pattern"]["id"], []).append(r)
    assert sorted((k, len(v)) for k, v in by_id.items()) == [
        ("lost-update", 1), ("unsynchronized-handoff", 2)], run.stderr
    for r in by_id["unsynchronized-handoff"]:
        assert r["pattern"]["fix_at"][0]["line"] == write
    assert run.report["summary"]["problems"] == 2
    # The text: the pattern after the header, the fix, the problems in the closing line.
    assert run.stderr.count("  Pattern: unsynchronized hand-off: reconfigure writes key "
                            f"'mode' (setitem) at shop.py:{write}") == 2
    assert "  Fix: make the read-modify-write at shop.py:" in run.stderr
    assert run.stderr.rstrip().endswith("racewatch: 3 races found (2 problems)")
    # SARIF: a rule per pattern, each result under its own.
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    results = sarif["runs"][0]["results"]
    assert sorted(r["ruleId"] for r in results) == ["RW002", "RW007", "RW007"]
    assert any(r["message"]["text"].startswith("Lost update: hit reads key 'hits'")
               for r in results)
    # HTML: the problems listed, each with its races; the fix's lines marked.
    page = (tmp_path / "r.html").read_text()
    assert "<h2>2 problems</h2>" in page and "3 distinct data races</strong> in 2 problems" \
        in page
    grouped = re.search(r'<li id="problem-\d+"><span class="pattern-name">unsynchronized '
                        r'hand-off</span>.*?2 races \(2 occurrences\): <a href="#race-\d+">',
                        page)
    assert grouped, page
    assert f'class="ln fixline" data-n="{write}"' in page
    # The log carries the patterns: racewatch report merges and prints them again.
    log = tmp_path / "races.log"
    logged = run_racewatch(tmp_path, shop, env=clean_env(RACEWATCH_OPTIONS=f"log_path={log}"))
    assert logged.status == 66, logged.stderr
    merged = subprocess.run(racewatch_command("report", str(log), "--json",
                                              str(tmp_path / "m.json")),
                            capture_output=True, text=True, env=clean_env(), timeout=TIMEOUT)
    assert "  Pattern: lost update: hit reads key 'hits'" in merged.stdout
    assert "racewatch: 3 races found (2 problems) in 1 process" in merged.stdout
    report = check_schema(json.loads((tmp_path / "m.json").read_text()))
    assert report["summary"]["problems"] == 2
    assert sorted(r["pattern"]["id"] for r in report["races"]) == [
        "lost-update", "unsynchronized-handoff", "unsynchronized-handoff"]


@pytest.mark.skipif(not hasattr(compiled, "SETTINGS"), reason="the compiled core is not built")
def test_both_cores_name_the_same_patterns(shop, tmp_path):
    found = {}
    for core in ("c", "python"):
        run = run_racewatch(tmp_path, shop, env=clean_env(RACEWATCH_CORE=core))
        found[core] = sorted((r["pattern"]["id"], r["pattern"]["explanation"], r["pattern"]["fix"])
                             for r in run.report["races"])
    assert found["c"] == found["python"]
