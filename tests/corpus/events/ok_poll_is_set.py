"""Polling is_set() until it reports the flag set orders the poller after set()."""
import threading
import time

status = {"phase": "starting"}
ready = threading.Event()


def boot():
    status["phase"] = "serving"
    ready.set()


t = threading.Thread(target=boot)
t.start()
while not ready.is_set():
    time.sleep(0.001)
print(status["phase"])
t.join()
