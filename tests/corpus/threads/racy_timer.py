"""A Timer's function races with main when main does not join it.

PATTERN: unsynchronized-handoff
"""
import threading
import time

state = {"fired": False}


def fire():
    state["fired"] = True  # RACE


timer = threading.Timer(0.01, fire)
timer.start()
time.sleep(0.1)
print(state["fired"])  # RACE
timer.join()
