"""The engine in-process: bounded growth, logical thread ids, consistency, start/stop."""

import _thread
import concurrent.futures
import contextlib
import gc
import inspect
import os
import queue
import sys
import threading
import time
from unittest import mock

import pytest
from freethreading import FREE_THREADED

import racewatch
from racewatch import session
from racewatch.config import Options
from racewatch.runtime import core as runtime_core
from racewatch.runtime import late_free
from racewatch.runtime.shadow import REGISTRY, shadow_of

# Captured before any test starts racewatch: a thread started with it is one racewatch did
# not announce, as a thread started by C code is.
_start_unannounced = _thread.start_new_thread


@pytest.fixture
def detector():
    active = session.start(Options(), instrument=False, print_races=False)
    try:
        yield active
    finally:
        session.stop()


def run_threads(target, n, *args):
    run_each(*[lambda: target(*args)] * n)


def run_each(*targets):
    """Each target in a thread of its own, all started, then all joined."""
    threads = [threading.Thread(target=target) for target in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_thread_churn_keeps_clocks_short(detector):
    shared = racewatch.track({"n": 0})
    lock = threading.Lock()

    def bump():
        with lock:
            shared["n"] += 1

    for _ in range(2000):
        t = threading.Thread(target=bump)
        t.start()
        t.join()
    assert shared["n"] == 2000
    assert REGISTRY.threads_seen >= 2001
    # Joined threads hand their slot on: a handful of slots serve 2000 threads.
    assert REGISTRY.slot_count() <= 4
    assert len(REGISTRY.current().vc) <= 4
    assert detector.report().races == []


def test_the_end_of_a_thread_racewatch_did_not_start_is_seen(detector):
    # Its first access adopts it; nothing but its own per-thread storage, cleared by
    # CPython when the thread ends, tells racewatch it is gone.
    shared = racewatch.track({})
    others = len(REGISTRY.live())
    seen_alive = []

    def work():
        shared["k"] = 1
        seen_alive.append(len(REGISTRY.live()))

    _start_unannounced(work, ())
    deadline = time.monotonic() + 30
    while (not seen_alive or len(REGISTRY.live()) > others) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert seen_alive == [others + 1]
    assert len(REGISTRY.live()) == others


def test_unjoined_threads_are_bounded_too(detector):
    done = threading.Semaphore(0)
    shared = racewatch.track({})

    def work(n):
        shared.get("missing")
        done.release()

    # A few alive at once, each holding a slot: without the GIL, and on a busy machine,
    # threads started back to back would all be alive together and each need its own.
    # racewatch's own view of the live threads (a thread is gone from it only once its
    # end is seen), and none of them joined.
    others = len(REGISTRY.live())
    threads = []
    for n in range(300):
        while len(REGISTRY.live()) > others + 4:
            time.sleep(0.0005)
        t = threading.Thread(target=work, args=(n,), daemon=True)
        t.start()
        threads.append(t)
    for _ in threads:
        done.acquire()
    for t in threads:  # wait for them to end without join: no edge from their end
        while t.is_alive():
            time.sleep(0.001)
    # Never joined, so never safely reusable: past 64 such slots the oldest is recycled.
    assert REGISTRY.slot_count() <= 64 + 8
    assert REGISTRY.recycled_unordered > 0


def test_keys_inserted_and_deleted_forever_stay_bounded(detector):
    d = racewatch.track({})
    lock = threading.Lock()
    turns = 20_000

    def churn(offset):
        for i in range(turns):
            key = (offset, i)
            with lock:
                d[key] = i
                del d[key]

    run_threads(lambda: churn(threading.get_ident()), 2)
    assert len(d) == 0
    sh = shadow_of(d)
    # 40,000 keys went in and out; what is left is bounded by the sweep's amortization.
    assert len(sh.locs) < 5_000
    assert detector.report().races == []


def lookups_beside_a_waiting_thread(d, keys) -> None:
    """``k in d`` for each key while a second thread is alive (so every lookup is checked)
    and never synchronizes with this one."""
    release = threading.Event()
    waiter = threading.Thread(target=release.wait)
    waiter.start()
    try:
        for k in keys:
            assert k not in d
    finally:
        release.set()
        waiter.join()


def test_lookups_of_ever_new_missing_keys_stay_bounded(detector):
    d = racewatch.track({"present": 1})
    before = detector.report().summary  # (the counts are the process's)
    sizes = []

    def keys():
        for k in range(20_000):
            yield k
            sizes.append(len(shadow_of(d).locs))

    lookups_beside_a_waiting_thread(d, keys())
    # Each lookup of a missing key makes a location; past max(1024, len(d)) of them beyond
    # the dict's keys the oldest go, counted in the summary, at a sweep after every
    # max(1024, 2 * len(d)) new locations.
    assert max(sizes) <= 1 + 1024 + 1024 + 1
    after = detector.report().summary
    assert after.forgotten_missing_keys - before.forgotten_missing_keys >= 20_000 - 2 * 1024
    assert after.forgotten_deleted_keys == before.forgotten_deleted_keys


class CountedKey:
    """A key whose ``__hash__`` counts its calls: the program's own code, run by every
    lookup of the key that racewatch makes."""

    calls = 0

    def __init__(self, n):
        self.n = n

    def __hash__(self):
        CountedKey.calls += 1
        return hash(self.n)

    def __eq__(self, other):
        return type(other) is CountedKey and other.n == self.n


def hash_calls_of_lookups(n) -> int:
    CountedKey.calls = 0
    lookups_beside_a_waiting_thread(racewatch.track({"present": 1}),
                                    [CountedKey(i) for i in range(n)])
    return CountedKey.calls


def test_sweeps_look_at_each_forgotten_key_about_once(detector):
    # The sweep walks the oldest locations first and stops once it has let go of enough:
    # each forgotten key is asked about once (is it in the dict?) and popped once.  (A walk
    # of every location, the newest kept ones again at the next sweep: about 2.5 calls.)
    per_lookup = hash_calls_of_lookups(1_000) / 1_000  # (no sweep yet)
    before = detector.report().summary
    calls = hash_calls_of_lookups(20_000)
    forgotten = detector.report().summary.forgotten_missing_keys - before.forgotten_missing_keys
    assert forgotten >= 20_000 - 2 * 1024
    assert calls - 20_000 * per_lookup <= 2.1 * forgotten


def test_sweeps_while_other_threads_add_records(detector):
    # Three threads ask one dict for ever-new keys while two others insert and delete keys
    # of their own under a lock: each sweep walks the records in pieces while the other
    # threads add and remove some (without the GIL, at the same time).
    d = racewatch.track({"present": 1})
    lock = threading.Lock()
    before = detector.report().summary
    turns = 6_000
    found = []

    def look_up():
        me = threading.get_ident()
        for i in range(turns):
            if f"{me}-{i}" in d:
                found.append(i)

    def churn():
        me = threading.get_ident()
        for i in range(turns // 2):
            with lock:
                d[(me, i)] = i
                del d[(me, i)]

    threads = [threading.Thread(target=f) for f in (look_up, look_up, look_up, churn, churn)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert found == []
    assert dict(d) == {"present": 1}
    assert detector.report().races == []
    after = detector.report().summary
    lost = after.forgotten_missing_keys - before.forgotten_missing_keys
    assert lost >= 3 * turns - 3 * 3 * 1024
    assert len(shadow_of(d).locs) <= 3 * 1024 + 1


def lookups_and_inserts(lock=None):
    """Two threads ask a shared dict for 2,000 keys it does not hold yet while a third
    inserts them, all started together (a barrier: nothing orders what follows it), each
    operation under ``lock`` if given; the lines of the lookup and of the insert."""
    d = racewatch.track({})
    keys = [f"k{i}" for i in range(2_000)]
    start = threading.Barrier(3)
    guard = lock if lock is not None else contextlib.nullcontext()

    def look_up():
        start.wait()
        for k in keys:
            with guard:
                k in d  # noqa: B015

    def insert():
        start.wait()
        for k in keys:
            with guard:
                d[k] = 1

    run_each(look_up, look_up, insert)
    assert len(d) == 2_000
    return (inspect.getsourcelines(look_up)[1] + 4, inspect.getsourcelines(insert)[1] + 4)


def test_lookups_of_absent_keys_race_with_later_unordered_inserts(detector):
    # Every lookup made before any insert starts, with no edge between the threads (a plain
    # list, polled): each insert finds the lookups' records where they are (free-threaded
    # builds: in each looking thread's own table, absent.c), and the race names both lines.
    d = racewatch.track({})
    keys = [f"k{i}" for i in range(2_000)]
    looked = []  # a plain list: racewatch sees no edge through it

    def look_up():
        for k in keys:
            k in d  # noqa: B015
        looked.append(True)

    def insert():
        while len(looked) < 2:
            time.sleep(0.001)
        for k in keys:
            d[k] = 1

    run_each(insert, look_up, look_up)
    races = detector.report().races
    assert len(races) == 1
    assert races[0].previous.stack[0].line == inspect.getsourcelines(look_up)[1] + 2
    assert races[0].current.stack[0].line == inspect.getsourcelines(insert)[1] + 4
    assert races[0].current.write and not races[0].previous.write


def test_lookups_of_absent_keys_race_with_unordered_inserts_of_them(detector):
    # Whichever comes first, a lookup that found the key absent or the insert's record, the
    # pair meets (free-threaded builds keep the lookups' records in each thread's own table
    # and the insert looks there: absent.c), and the race names both lines.
    lookup_line, insert_line = lookups_and_inserts()
    races = detector.report().races
    assert races
    for race in races:
        lines = {race.previous.stack[0].line, race.current.stack[0].line}
        assert lines == {lookup_line, insert_line}


def test_lookups_of_absent_keys_ordered_with_the_inserts_are_no_race(detector):
    lookups_and_inserts(threading.Lock())
    assert detector.report().races == []


def test_sweeps_release_the_tables_a_free_threaded_313_frees_late(monkeypatch):
    # late_free.py: past 256 KiB of tables let go by the sweeps (48 bytes a location
    # left), the sweeping thread queues 256 frees of its own (2 a round), and CPython
    # 3.13t then frees what no thread can read any more.
    rounds = []
    monkeypatch.setattr(late_free, "ACTIVE", True)
    monkeypatch.setattr(late_free, "_resize_pad", lambda: rounds.append(1))
    monkeypatch.setattr(late_free, "_late", [0])
    late_free.swept(5_000)  # 240,000 bytes
    assert rounds == []
    late_free.swept(500)
    assert len(rounds) == 128
    late_free.swept(5_000)
    assert len(rounds) == 128  # counted again from nothing


def test_late_frees_are_released_only_where_313_needs_it():
    free_threaded_313 = sys.version_info[:2] == (3, 13) and FREE_THREADED
    assert late_free.ACTIVE == free_threaded_313


def test_a_recent_lookup_of_a_missing_key_still_races_with_its_insert(detector):
    d = racewatch.track({})
    lookups_beside_a_waiting_thread(d, range(5_000))
    looked_up = []  # a plain list: racewatch sees no edge through it

    def reader():
        "k" in d  # noqa: B015 -- the lookup that races
        looked_up.append(True)

    t = threading.Thread(target=reader)
    t.start()
    while not looked_up:
        time.sleep(0.001)
    d["k"] = 1
    t.join()
    races = detector.report().races
    assert len(races) == 1 and races[0].previous.op == "contains"


def test_lookups_of_a_missing_key_by_two_threads_both_race_with_its_insert(detector):
    # Two threads look up the same missing keys, at two sites, and a third inserts one of
    # them with nothing between them: both lookups race with the insert (the second
    # lookup of a key finds the first one's record and adds its own).
    d = racewatch.track({})
    looked_up = []  # a plain list: racewatch sees no edge through it

    def reader():
        for i in range(300):
            assert f"x{i}" not in d
        looked_up.append(True)

    def other_reader():  # (a site of its own: its race is reported apart)
        for i in range(300):
            assert f"x{i}" not in d
        looked_up.append(True)

    readers = [threading.Thread(target=f) for f in (reader, other_reader)]
    for t in readers:
        t.start()
    while len(looked_up) < 2:
        time.sleep(0.001)
    writer = threading.Thread(target=d.__setitem__, args=("x5", 1))
    writer.start()
    writer.join()
    for t in readers:
        t.join()
    d["x7"] = 1  # after the joins: ordered with every lookup
    races = detector.report().races
    assert sorted((r.key, r.previous.op, r.current.op) for r in races) == [
        ("'x5'", "contains", "setitem")] * 2
    assert {r.previous.stack[0].function.rsplit(".", 1)[-1] for r in races} == {
        "reader", "other_reader"}


def test_a_loop_body_of_a_dozen_sites_keeps_a_record_per_site(detector):
    # A body with twelve sites, each the first read of a new key of a dict of its own: the
    # thread keeps the records of its last sixteen sites, so each site's reads share one
    # record however many keys it reads (with eight, each read made a record of its own).
    ds = [racewatch.track({i: i for i in range(300)}) for _ in range(12)]
    read_all = threading.Event()
    go_on = []  # a plain list: racewatch sees no edge through it

    def reader():
        for i in range(300):
            total = (ds[0][i] + ds[1][i] + ds[2][i] + ds[3][i] + ds[4][i] + ds[5][i]
                     + ds[6][i] + ds[7][i] + ds[8][i] + ds[9][i] + ds[10][i] + ds[11][i])
            assert total == 12 * i
        read_all.set()
        while not go_on:
            time.sleep(0.001)

    t = threading.Thread(target=reader)
    t.start()
    read_all.wait()
    try:
        for d in ds:
            reads = [loc.r for loc in shadow_of(d).locs.values()]
            assert len(reads) == 300
            # (two where the pure-Python core saw a site at another instruction offset
            # while the interpreter specialized it, as above)
            assert len({id(r) for r in reads}) == len({id(r.stack) for r in reads}) <= 2
    finally:
        go_on.append(True)
        t.join()
    assert detector.report().races == []


def test_reads_of_many_keys_at_a_few_sites_share_a_record_per_site(detector):
    # A loop's body reads two shared dicts and writes one of its own, in turn: each site's
    # first reads of the keys in one epoch are one record, however many keys, and a race on
    # any of those keys still names that site.
    a = racewatch.track({i: i for i in range(600)})
    b = racewatch.track({i: -i for i in range(600)})
    read_all = threading.Event()
    go_on = []  # a plain list: racewatch sees no edge through it

    def reader():
        own = racewatch.track({})
        for i in range(600):
            own[i % 7] = a[i] + b[i]  # three sites in turn
        read_all.set()
        while not go_on:
            time.sleep(0.001)

    t = threading.Thread(target=reader)
    t.start()
    read_all.wait()  # an edge only from the reader's set(), after its reads
    try:
        for d in (a, b):
            reads = [loc.r for loc in shadow_of(d).locs.values()]
            # One record per stack: one, or two where the pure-Python core saw the site at
            # another instruction offset while the interpreter specialized it.
            assert len(reads) == 600
            assert len({id(r) for r in reads}) == len({id(r.stack) for r in reads}) <= 2
    finally:
        go_on.append(True)
    a[599] = 0  # ordered after the reads by the set() the wait() saw
    b[450] = 0
    t.join()
    assert detector.report().races == []

    done = []

    def late_reader():
        own = racewatch.track({})
        for i in range(600):
            own[i % 7] = a[i] + b[i]  # the site whose reads race
        done.append(True)

    t = threading.Thread(target=late_reader)
    t.start()
    while not done:
        time.sleep(0.001)
    a[450] = 1  # unordered with the reads of the second reader
    t.join()
    races = detector.report().races
    line = inspect.getsourcelines(late_reader)[1] + 3
    assert len(races) == 1
    assert [f.line for f in races[0].previous.stack[:1]] == [line]
    assert races[0].previous.op == "getitem" and races[0].current.write


@pytest.mark.skipif(runtime_core.NAME != "c", reason="the compiled core's records")
def test_keys_read_by_many_threads_share_their_record(detector):
    """Keys that four unordered threads read in turn, each at one site in one epoch, end in
    a handful of location records, not one per key (a read set of three threads or more
    is shared as those of one and two are): their memory stays that of the dict."""
    d = racewatch.track({i: i for i in range(600)})
    turns, done = [3, 2, 1, 0], []  # plain lists: racewatch sees no edge through them

    def reader():
        turn = turns.pop()
        while len(done) < turn:
            time.sleep(0.001)
        assert sum(d[i] for i in range(600)) == 599 * 300
        done.append(turn)

    run_threads(reader, 4)
    locs = list(shadow_of(d).locs.values())
    assert len(locs) == 600
    assert all(len(loc.r) == 4 for loc in locs)  # {slot: read} of the four readers
    assert len({id(loc) for loc in locs}) <= 24
    d[0] = 1  # after the joins: ordered
    assert detector.report().races == []


def test_a_reused_os_ident_is_a_new_logical_thread(detector):
    d = racewatch.track({"k": 0})
    seen = []

    def write():
        seen.append((threading.get_ident(), REGISTRY.current().info.tid))
        d["k"] = 1

    first = threading.Thread(target=write)
    first.start()
    while first.is_alive():  # ends, never joined: no edge to what follows
        pass
    second = threading.Thread(target=write)
    second.start()
    second.join()
    first.join()
    (ident1, tid1), (ident2, tid2) = seen
    assert tid1 != tid2
    races = detector.report().races
    assert len(races) == 1
    ids = {races[0].current.thread.id, races[0].previous.thread.id}
    assert ids == {tid1, tid2}


def test_bookkeeping_survives_constant_thread_switches(detector):
    """With a switch interval of a microsecond, correct code stays silent and racy code
    is still reported: the detector's own state is never torn by a switch."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        d = racewatch.track({i: 0 for i in range(8)})
        lock = threading.Lock()

        def locked():
            for i in range(3000):
                with lock:
                    d[i % 8] += 1
                    len(d)
                    list(d.items())

        run_threads(locked, 4)
        assert detector.report().races == []
        assert sum(d.values()) == 12_000

        racy = racewatch.track({})

        def unlocked(n):
            for i in range(200):
                racy[i % 4] = n

        threads = [threading.Thread(target=unlocked, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert detector.report().races
    finally:
        sys.setswitchinterval(old)


def test_shadow_is_freed_with_the_dict(detector):
    d = racewatch.track({"k": 1})
    run_threads(d.get, 2, "k")
    sh = shadow_of(d)
    assert sh is not None
    held = sys.getrefcount(sh)
    del d
    gc.collect()
    assert sys.getrefcount(sh) == held - 1   # the dict's reference, and no other


class _Node:
    """A key that refers to the dict it is a key of (or is looked up in)."""

    def __init__(self):
        self.table = None


@pytest.mark.parametrize("how", ["key", "lookup", "element"])
def test_a_cycle_through_a_shadow_is_collected(detector, how):
    """A container, its shadow and a key that refers to the container: a cycle that only
    the shadow closes when the key was merely looked up (``k in d``), which the garbage
    collector must still find and free."""
    import weakref

    node = _Node()
    table = racewatch.track(set() if how == "element" else {})
    node.table = table
    if how == "key":
        run_threads(table.__setitem__, 2, node, 1)
    elif how == "lookup":
        run_threads(table.__contains__, 2, node)
    else:
        run_threads(table.add, 2, node)
    assert (node in table) is (how != "lookup")
    gone = weakref.ref(node)
    del node, table
    gc.collect()
    assert gone() is None


@pytest.mark.skipif(runtime_core.NAME != "c" or FREE_THREADED,
                    reason="the compiled core, on GIL builds")
def test_a_shadow_of_atomic_keys_costs_collections_nothing(detector):
    """A dict of str keys and values stays untracked by the garbage collector, as without
    racewatch, and so does its shadow, until a key the collector tracks comes."""
    d = racewatch.track({})
    run_threads(d.__setitem__, 2, "k", "v")
    run_threads(d.__contains__, 2, "absent")
    sh = shadow_of(d)
    assert sh is not None and len(sh.locs) == 2
    assert not gc.is_tracked(d) and not gc.is_tracked(sh)
    run_threads(d.__contains__, 2, _Node())
    assert gc.is_tracked(d) and gc.is_tracked(sh)


def test_an_address_reused_by_a_new_dict_has_no_history(detector):
    """The shadow lives in the dict, not in a table keyed by id(): a new dict at the
    address of a dead one starts clean."""
    ids = set()
    reused = False
    # Until an address comes back: at once with the GIL; a free-threaded build frees a
    # dict another thread used only once every thread has passed a quiescent point, so
    # the address may come back some dicts later.
    for _ in range(2000):
        d = racewatch.track({})
        reused = id(d) in ids
        ids.add(id(d))
        t = threading.Thread(target=d.__setitem__, args=("k", 1))
        t.start()
        t.join()
        d["k"] = 2       # ordered by the join
        del d
        if reused:
            break
    assert reused, "no address was reused"
    assert detector.report().races == []


# -- start and stop mirror each other ------------------------------------------------------


def _patchable_state():
    import _thread
    import fcntl
    import weakref

    futures_base = concurrent.futures._base
    pool = concurrent.futures.ThreadPoolExecutor
    return {
        "threading.Lock": threading.Lock, "threading.RLock": threading.RLock,
        "_thread.start_new_thread": _thread.start_new_thread,
        "queue.SimpleQueue": queue.SimpleQueue,
        "concurrent.futures.wait": concurrent.futures.wait,
        "concurrent.futures.as_completed": concurrent.futures.as_completed,
        "excepthook": sys.excepthook, "threading.excepthook": threading.excepthook,
        "meta_path": list(sys.meta_path),
        **{f"{cls.__name__}.{name}": vars(cls).get(name)
           for cls in (threading.Thread, threading.Timer, threading.Event, threading.Semaphore,
                       threading.BoundedSemaphore, threading.Barrier, queue.Queue,
                       futures_base.Future, pool, concurrent.futures.thread._WorkItem)
           for name in ("__init__", "start", "join", "_bootstrap_inner", "set", "wait",
                        "is_set", "acquire", "release", "__enter__", "put", "get",
                        "task_done", "set_result", "set_exception", "result", "exception",
                        "add_done_callback", "_adjust_thread_count", "run")},
        "_base.wait": futures_base.wait,
        "_base._create_and_install_waiters": futures_base._create_and_install_waiters,
        "fcntl.flock": fcntl.flock, "os.close": os.close,
        **{f"WeakValueDictionary.{name}": vars(weakref.WeakValueDictionary)[name]
           for name in ("__init__", "__getitem__", "get", "__contains__", "setdefault")},
    }


def test_patched_methods_look_and_bind_as_the_originals(detector):
    plain_put = inspect.signature(queue.Queue.put.__wrapped__)
    assert queue.Queue.put is not queue.Queue.put.__wrapped__   # patched
    assert inspect.signature(queue.Queue.put) == plain_put
    result = concurrent.futures.Future.result
    assert (result.__name__, result.__qualname__) == ("result", "Future.result")
    assert result.__doc__ == result.__wrapped__.__doc__
    q = queue.Queue()
    queue.Queue.put(q, 1)          # called through the class, as a subclass's super() does
    q.put(item=2, block=False)     # keywords
    assert [q.get(), queue.Queue.get(q, timeout=1)] == [1, 2]
    put = q.put                    # a bound method, kept and called later
    put(3)
    assert (put.__self__, put.__name__, q.get()) == (q, "put", 3)
    assert repr(queue.Queue.put).startswith("<function Queue.put at ")
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'self'"):
        queue.Queue.put()
    # A test's mock of it binds as the original does: a function, not another callable.
    with mock.patch.object(queue.Queue, "put", autospec=True) as mocked:
        q.put(4, block=False)
    assert mocked.call_args == mock.call(q, 4, block=False)


def test_stop_removes_exactly_what_start_installed():
    before = _patchable_state()
    session.start(Options())
    during = _patchable_state()
    session.stop()
    after = _patchable_state()
    # Identity, not equality: wrapt's proxies compare equal to what they wrap.
    assert [k for k in before if after[k] is not before[k] and k != "meta_path"] == []
    assert after["meta_path"] == before["meta_path"]
    changed = {k for k in before if during[k] is not before[k]}
    assert {"threading.Lock", "threading.RLock", "queue.SimpleQueue", "meta_path",
            "Thread.start", "Queue.put", "Future.set_result", "fcntl.flock", "os.close",
            "WeakValueDictionary.__init__", "WeakValueDictionary.get"} <= changed


def test_start_twice_is_harmless():
    first = session.start(Options(), instrument=False, print_races=False)
    try:
        assert session.start(Options(), instrument=False) is first
    finally:
        session.stop()
    assert session.stop() is None


def test_track_copies_what_the_caller_still_holds_and_moves_only_a_fresh_container(detector):
    # Instrumented code hands track() a new container that nothing else holds: its items
    # may move to the tracked one.  A container a variable still holds keeps its own.
    from racewatch.runtime.tracked import is_tracked, track

    d, lst = {"a": 1, "b": [2]}, [1, [2], 3]
    tracked_d, tracked_lst = track(d), track(lst)
    assert d == {"a": 1, "b": [2]} and lst == [1, [2], 3]
    assert tracked_d == d and tracked_lst == lst
    assert tracked_d is not d and is_tracked(tracked_d) and is_tracked(tracked_lst)
    assert tracked_d["b"] is d["b"] and tracked_lst[1] is lst[1]
    fresh_d, fresh_lst = track({"x": [1], "y": 2}), track([[1], 2])
    assert fresh_d == {"x": [1], "y": 2} and list(fresh_d) == ["x", "y"]
    assert fresh_lst == [[1], 2] and is_tracked(fresh_d) and is_tracked(fresh_lst)
