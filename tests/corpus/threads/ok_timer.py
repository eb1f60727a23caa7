"""threading.Timer is a Thread: start and join order it."""
import threading

state = {"fired": False}


def fire():
    state["fired"] = True


timer = threading.Timer(0.01, fire)
timer.start()
timer.join()
print(state["fired"])
