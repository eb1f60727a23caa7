"""The signalling thread writes again after release(): only what came before is handed over.

PATTERN: unsynchronized-handoff
"""
import threading

report = {"status": "pending"}
finished = threading.Semaphore(0)


def build():
    report["status"] = "built"
    finished.release()
    report["status"] = "archived"  # RACE


t = threading.Thread(target=build)
t.start()
finished.acquire()
print(report["status"] != "pending")  # RACE
t.join()
