"""Fork 40 children while other threads keep starting and stopping threads.

In a child, CPython clears the parent's other threads inside os.fork() itself, before any
after-fork hook: every lock one of them held at that moment stays held.  Each child
starts and joins a thread and writes a dict, then exits; the parent counts the children
that did not finish in time (plain python: none).  A tiny switch interval makes the
other threads hold their locks at the moment of the fork often.
"""
# races: 0
# timeout: 120
import os
import sys
import threading
import time
import warnings

warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork() with threads running
sys.setswitchinterval(1e-6)
CHILDREN = 40
stop = threading.Event()
shared = {"seen": 0}
lock = threading.Lock()


def leaf():
    with lock:
        shared["seen"] += 1


def churn():
    while not stop.is_set():
        threads = [threading.Thread(target=leaf) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def child():
    box = {}
    t = threading.Thread(target=box.setdefault, args=("child", 1))
    t.start()
    t.join()
    box["parent"] = 2
    os._exit(0 if box == {"child": 1, "parent": 2} else 3)


workers = [threading.Thread(target=churn) for _ in range(4)]
for w in workers:
    w.start()
hung = failed = 0
for _ in range(CHILDREN):
    time.sleep(0.005)
    pid = os.fork()
    if pid == 0:
        child()
    deadline = time.monotonic() + 10
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            failed += status != 0
            break
        if time.monotonic() > deadline:
            hung += 1
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            break
        time.sleep(0.002)
stop.set()
for w in workers:
    w.join()
print(f"{CHILDREN} children: {hung} hung, {failed} failed")
