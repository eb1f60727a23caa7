"""Semaphore(0) as a signal: the release() the worker makes is taken by main's acquire()."""
import threading

report = {}
finished = threading.Semaphore(0)


def build():
    report["lines"] = 120
    report["status"] = "ok"
    finished.release()


t = threading.Thread(target=build)
t.start()
finished.acquire()
print(sorted(report.items()))
t.join()
