"""The inner dict of a nested structure is shared too.

PATTERN: unsynchronized-handoff
"""
import threading

config = {"db": {"host": "localhost", "port": 5432}}


def reconfigure():
    config["db"]["port"] = 6543  # RACE


def connect(out):
    out.append(config["db"]["port"] > 0)  # RACE


out = []
threads = [threading.Thread(target=reconfigure), threading.Thread(target=connect, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
