"""The attributes corpus: racy programs report their two lines, correct ones stay silent."""

import pytest
from corpus_tools import check_corpus_program, corpus_programs, run_plain, run_racewatch
from freethreading import FREE_THREADED


@pytest.mark.parametrize("program", corpus_programs("attributes"), ids=lambda p: p.stem)
def test_corpus(program, tmp_path):
    check_corpus_program(program, tmp_path)


def test_classes_are_hooked_once_a_second_thread_runs(tmp_path):
    """A lone thread's accesses need no checking: its classes stay as they are (and cost
    nothing) until a second thread starts."""
    program = tmp_path / "lone.py"
    program.write_text(
        "import threading\n"
        "class Job:\n"
        "    pass\n"
        "print('__setattr__' in vars(Job))\n"
        "t = threading.Thread(target=lambda: None)\n"
        "t.start()\n"
        "t.join()\n"
        "print('__setattr__' in vars(Job))\n"
        "class Later:\n"
        "    pass\n"
        "print('__setattr__' in vars(Later))\n")
    run = run_racewatch(tmp_path, program)
    assert run.status == 0, run.stderr
    assert run.stdout.split() == ["False", "True", "True"]
    assert run_plain(program).stdout.split() == ["False", "False", "False"]


@pytest.mark.parametrize("watch, races", [("dict,list,set,attr,global", 2), ("attr", 1),
                                          ("global", 1), ("dict", 0)])
def test_watch_selects_attributes_and_globals(tmp_path, watch, races):
    program = tmp_path / "both.py"
    program.write_text(
        "import threading\n"
        "import time\n"
        "class Stats:\n"
        "    def __init__(self):\n"
        "        self.hits = 0\n"
        "stats = Stats()\n"
        "total = 0\n"
        "def work():\n"
        "    global total\n"
        "    for _ in range(20):\n"
        "        stats.hits += 1\n"
        "        total += 1\n"
        "threads = [threading.Thread(target=work) for _ in range(2)]\n"
        "for t in threads:\n"
        "    t.start()\n"
        "    time.sleep(0.2)  # one after the other (no edge: still a race)\n"
        "for t in threads:\n"
        "    t.join()\n"
        "print(stats.hits, total)\n")
    run = run_racewatch(tmp_path, program, options=("--watch", watch))
    assert run.stdout == "40 40\n", run.stderr
    assert len(run.report["races"]) == races, run.stderr
    kinds = {r["container"]["type"] for r in run.report["races"]}
    assert kinds == {"object", "module"} if races == 2 else len(kinds) == races


CLASSES_THAT_DIE = '''\
import gc
import threading


def make(i):
    class Temporary:
        pass
    obj = Temporary()
    obj.x = i
    return Temporary


idle = threading.Event()
bystander = threading.Thread(target=idle.wait)  # two threads: classes are hooked
bystander.start()
for i in range(300):
    cls = make(i)
    del cls
    gc.collect()
idle.set()
bystander.join()
# The dead classes' memory, reused and overwritten.
junk = [bytes([255]) * size for size in range(100, 2000) for _ in range(5)]


class Survivor:
    pass


kept = Survivor()
kept.y = 1
print(kept.y)
'''


def test_classes_that_die_while_hooked_are_given_back_at_the_end(tmp_path):
    """A hooked class may die before racewatch stops (a class made in a function, a test's
    class): stop() must not give a freed type its slot back, and a new class at a dead
    one's address is a class of its own."""
    program = tmp_path / "temporary_classes.py"
    program.write_text(CLASSES_THAT_DIE)
    run = run_racewatch(tmp_path, program)
    assert (run.status, run.stdout) == (0, "1\n"), run.stderr
    assert "racewatch: no races found" in run.stderr


def test_a_class_the_program_changed_keeps_its_change_at_the_end(tmp_path):
    """A hooked class whose __setattr__ the program replaced keeps the program's at stop(),
    with no error (both cores)."""
    program = tmp_path / "replaced.py"
    program.write_text(
        "import threading\n"
        "class Job:\n"
        "    pass\n"
        "t = threading.Thread(target=lambda: None)\n"
        "t.start()\n"
        "t.join()\n"
        "def own(self, name, value):\n"
        "    object.__setattr__(self, name, value * 2)\n"
        "Job.__setattr__ = own\n"
        "del Job.__delattr__\n"
        "import atexit\n"
        "def after():\n"
        "    job = Job()\n"
        "    job.n = 21\n"
        "    print(job.n, Job.__setattr__ is own)\n"
        "atexit.register(after)\n")
    run = run_racewatch(tmp_path, program)
    assert (run.status, run.stdout) == (0, "42 True\n"), run.stderr
    assert "Exception ignored" not in run.stderr and "Error" not in run.stderr, run.stderr
def test_classes_that_die_while_hooked(tmp_path):
    """A class instrumented code defines dies as without the detector, even hooked, and
    the classes made after it (at its address, often) are watched as any other; the run
    ends cleanly (a dead class's hook once crashed stop() with a segmentation fault)."""
    program = tmp_path / "churn.py"
    program.write_text(
        "import gc, threading, weakref\n"
        "dead = []\n"
        "def churn():\n"
        "    for _ in range(50):\n"
        "        class Temp:\n"
        "            pass\n"
        "        Temp().x = 1\n"
        "        ref = weakref.ref(Temp)\n"
        "        del Temp\n"
        "        gc.collect()\n"
        "        dead.append(ref() is None)\n"
        "t = threading.Thread(target=churn)\n"
        "t.start()\n"
        "t.join()\n"
        "print(all(dead))\n"
        "class Counter:\n"
        "    def __init__(self):\n"
        "        self.n = 0\n"
        "counter = Counter()\n"
        "def work():\n"
        "    for _ in range(100):\n"
        "        counter.n += 1\n"
        "threads = [threading.Thread(target=work) for _ in range(2)]\n"
        "for t in threads:\n"
        "    t.start()\n"
        "for t in threads:\n"
        "    t.join()\n"
        "print(counter.n)\n")
    run = run_racewatch(tmp_path, program)
    # (A free-threaded CPython frees a class only later, detector or not: as plain python.)
    plain = run_plain(program).stdout
    assert plain.split()[1:] == ["200"] and (plain.split()[0] == "True" or FREE_THREADED)
    assert run.stdout == plain, run.stderr
    assert run.status == 66, run.stderr
    assert "Traceback" not in run.stderr and "Fatal" not in run.stderr, run.stderr
    races = run.report["races"]
    assert [(r["container"]["type"], r["current"]["stack"][0]["line"]) for r in races] == \
        [("object", 22)], run.stderr


WAYS_OF_WRITING = '''\
import atexit
import threading


class Base:
    pass


go = threading.Event()
bystander = threading.Thread(target=go.wait)
bystander.start()  # from here on, classes are hooked as they are made


class Sub(Base):  # made after its base was hooked
    pass


class Guarded(Base):
    def __setattr__(self, name, value):
        super().__setattr__(name, value)


base, sub, guarded = Base(), Sub(), Guarded()
sub.gone = 0


def work(deleter):
    base.n = 1
    sub.n = 1
    guarded.n = 1
    if deleter:
        del sub.gone
    else:
        getattr(sub, "gone", None)


threads = [threading.Thread(target=work, args=(d,)) for d in (True, False)]
for t in threads:
    t.start()
for t in threads:
    t.join()
go.set()
bystander.join()
object.__setattr__(base, "m", 5)
print(base.m, vars(base), vars(sub), vars(guarded))
atexit.register(lambda: (setattr(sub, "z", 1), print(sub.z, vars(sub))))
'''


def test_every_way_of_writing_an_attribute_is_checked(tmp_path):
    """A write to a hooked class's instance, to a subclass made after the hook, through a
    subclass's own __setattr__ calling super()'s, and a delete, each report their race;
    object.__setattr__ on a hooked instance works, and after the end writes are the
    program's own again (on 3.13+ the class's C-level slot is the hook's)."""
    program = tmp_path / "ways.py"
    program.write_text(WAYS_OF_WRITING)
    run = run_racewatch(tmp_path, program)
    assert run.stdout == run_plain(program).stdout == \
        "5 {'n': 1, 'm': 5} {'n': 1} {'n': 1}\n1 {'n': 1, 'z': 1}\n", run.stderr
    assert run.status == 66, run.stderr
    found = sorted((r["container"]["name"], r["attribute"],
                    sorted((r["current"]["stack"][0]["line"], r["previous"]["stack"][0]["line"])))
                   for r in run.report["races"])
    assert found == [("Base", "n", [28, 28]), ("Guarded", "n", [20, 20]),
                     ("Sub", "gone", [32, 34]), ("Sub", "n", [29, 29])], run.stderr


OBJECTS_OWN_WRITES = '''\
import dataclasses
import threading

idle = threading.Event()
bystander = threading.Thread(target=idle.wait)
bystander.start()  # from here on, classes are hooked as they are made


class Plain:
    pass


class Doubling(Plain):
    def __setattr__(self, name, value):
        object.__setattr__(self, name, value * 2)

    def __delattr__(self, name):
        object.__delattr__(self, name)


@dataclasses.dataclass(frozen=True)
class Frozen(Plain):
    n: int


plain, doubling = Plain(), Doubling()
object.__setattr__(plain, "n", 1)
doubling.n = 2
seen = [dict(vars(plain)), dict(vars(doubling)), Frozen(4)]
object.__delattr__(plain, "n")
del doubling.n
seen += [vars(plain), vars(doubling)]
for call in (lambda: object.__setattr__(plain, "n"), lambda: object.__delattr__(plain),
             lambda: object.__setattr__(Plain, "n", 1), lambda: object.__setattr__(1, "n", 1),
             lambda: object.__delattr__(plain, "missing"),
             lambda: setattr(Frozen(5), "n", 6)):
    try:
        call()
    except Exception as exc:
        seen.append(f"{type(exc).__name__}: {exc}")
print(seen)


def work():
    plain.hits = 1


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
idle.set()
bystander.join()
'''


def test_object_setattr_applies_to_hooked_classes_and_their_subclasses(tmp_path):
    """``object.__setattr__`` and ``object.__delattr__`` on an instance of a hooked class
    whose writes are object's, of a subclass whose own ``__setattr__`` calls them and of a
    frozen dataclass do what they do without racewatch, errors included, while that
    class's own writes are checked (up to 3.12 object's wrappers refuse a class whose
    C-level slot is the hook's, and racewatch lets those classes through)."""
    program = tmp_path / "own_writes.py"
    program.write_text(OBJECTS_OWN_WRITES)
    run = run_racewatch(tmp_path, program)
    assert run.stdout == run_plain(program).stdout, run.stderr
    assert run.stdout.startswith("[{'n': 1}, {'n': 4}, Frozen(n=4), {}, {}, "), run.stdout
    assert run.status == 66, run.stderr
    found = [(r["container"]["name"], r["attribute"], r["current"]["stack"][0]["line"])
             for r in run.report["races"]]
    assert found == [("Plain", "hits", 45)], run.stderr


METHODS = '''\
import threading

idle = threading.Event()
bystander = threading.Thread(target=idle.wait)
bystander.start()  # from here on, classes are hooked as they are made


class Job:
    def run(self):
        return "class"


def twice(self):
    return "replaced"


first, second, third = Job(), Job(), Job()
seen = [first.run() for _ in range(3)]          # the class's function, bound
second.run = lambda: "own"                       # an instance's own hides it
seen += [first.run(), second.run(), third.run()]
first.__dict__["run"] = lambda: "own dict"      # through a dict of its own
seen += [first.run(), third.run()]
Job.run = twice                                  # the class changes its function
seen += [third.run(), second.run(), third.run.__func__.__name__]
del second.run
seen += [second.run(), first.run(), vars(second)]
idle.set()
bystander.join()
print(seen)
'''


def test_method_reads_find_what_the_object_and_its_class_hold(tmp_path):
    """A read of a method gives what plain Python gives: the class's function bound, or an
    attribute of the object's own that hides it (set on that object or, before, on another
    of its class), through the object's values or a dict of its own, and the function the
    class holds now."""
    program = tmp_path / "methods.py"
    program.write_text(METHODS)
    run = run_racewatch(tmp_path, program)
    plain = run_plain(program)
    assert plain.stdout == ("['class', 'class', 'class', 'class', 'own', 'class', 'own dict',"
                            " 'class', 'replaced', 'own', 'twice', 'replaced', 'own dict', {}]\n")
    assert (run.status, run.stdout) == (0, plain.stdout), run.stderr


REPEATED_READS = '''\
import threading


class Point:
    def __init__(self):
        self.x = 1


def spin(p):
    total = 0
    for _ in range(10_000):
        total += p.x   # the same read again and again, in one epoch
    return total


idle = threading.Event()
bystander = threading.Thread(target=idle.wait)
bystander.start()
print(spin(Point()))
idle.set()
bystander.join()
'''


def test_the_memory_budget_is_read_among_repeated_attribute_reads(tmp_path):
    """Every few thousand accesses of a thread, repeats of an attribute read made already in
    its epoch included, racewatch reads its memory against max_memory_mb: a program that
    only repeats one read is cut too."""
    program = tmp_path / "repeats.py"
    program.write_text(REPEATED_READS)
    run = run_racewatch(tmp_path, program, options=("--max-memory-mb", "1"))
    assert (run.status, run.stdout) == (0, "10000\n"), run.stderr
    assert "racewatch: warning: tracking cut" in run.stderr
    assert "budget of 1 MB" in run.report["summary"]["tracking_cut"]
