"""A SIGALRM handler raises while the main thread is inside ``with lock:``; the program
catches the exception, and the lock must be free again, as in plain python."""
# races: 0
# timeout: 20
import signal
import threading


class Alarm(Exception):
    pass


def on_alarm(signum, frame):
    raise Alarm


lock = threading.Lock()
rlock = threading.RLock()
idle = threading.Event()
bystander = threading.Thread(target=idle.wait, daemon=True)  # two threads alive
bystander.start()
signal.signal(signal.SIGALRM, on_alarm)
interrupted = 0
for which in (lock, rlock):
    for _ in range(200):
        try:
            signal.setitimer(signal.ITIMER_REAL, 0.0001)
            while True:
                with which:
                    pass
        except Alarm:
            interrupted += 1
        signal.setitimer(signal.ITIMER_REAL, 0)
        assert which.acquire(timeout=5), "the lock was left held"
        which.release()
idle.set()
bystander.join()
print("interrupted", interrupted, "times; every lock was free after")
