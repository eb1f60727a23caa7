"""main changes the config after starting the worker that reads it.

PATTERN: unsynchronized-handoff
"""
import threading

config = {"factor": 3}


def work():
    print("factor", config["factor"] > 0)  # RACE


t = threading.Thread(target=work)
t.start()
config["factor"] = 4  # RACE
t.join()
