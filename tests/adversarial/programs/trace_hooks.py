"""A program that traces itself (``sys.settrace`` and ``threading.settrace``), as coverage
tools and debuggers do, and keeps its tallies in dicts.

The trace function sees racewatch's own frames under the pure-Python core; it must see
the program's calls exactly as under plain python, and its dict accesses must not be
reported (they are ordered by the lock).
"""
# races: 0
import sys
import threading

calls = {}
lock = threading.Lock()
HERE = __file__


def tracer(frame, event, arg):
    if event == "call" and frame.f_code.co_filename == HERE:
        name = frame.f_code.co_name
        with lock:
            calls[name] = calls.get(name, 0) + 1
    return None


def square(x):
    return x * x


def work(n):
    shared = {}
    for i in range(n):
        shared[i] = square(i)
    return sum(shared.values())


threading.settrace(tracer)
sys.settrace(tracer)
results = []
threads = [threading.Thread(target=lambda: results.append(work(50))) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
results.append(work(10))
sys.settrace(None)
threading.settrace(None)
print(sorted(results), sorted(calls.items()))
