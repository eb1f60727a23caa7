"""_thread.start_new_thread: a write after the start is not ordered before the thread.

PATTERN: unordered-accesses
"""
import _thread
import threading

table = {}
done = threading.Event()


def work():
    table["greeting"] = "hello"  # RACE
    done.set()


_thread.start_new_thread(work, ())
table["greeting"] = "bonjour"  # RACE
done.wait()
