"""The event is set by a thread that did not write the data: no edge from the writer.

PATTERN: unsynchronized-handoff
"""
import threading

data = {}
ready = threading.Event()


def writer():
    data["value"] = 42  # RACE


def announcer():
    ready.set()


threads = [threading.Thread(target=writer), threading.Thread(target=announcer)]
for t in threads:
    t.start()
ready.wait()
print(data.get("value") in (None, 42))  # RACE
for t in threads:
    t.join()
