"""A worker writes a result; main reads it without joining first.

PATTERN: unsynchronized-handoff
"""
import threading
import time

results = {}


def work():
    results["answer"] = 42  # RACE


t = threading.Thread(target=work, name="worker")
t.start()
time.sleep(0.05)  # sleeping is not synchronization
print(results.get("answer"))  # RACE
t.join()
