"""Racing on a key whose ``__repr__`` takes a lock that the racing thread holds.

Plain python never calls the repr; a report that did would deadlock the thread, inside
its own ``d[key] = v``.
"""
# races: 1
import _thread
import threading


class Key:
    def __init__(self):
        self.lock = threading.Lock()

    def __repr__(self):
        with self.lock:
            return "Key()"

    def __hash__(self):
        return 1

    def __eq__(self, other):
        return self is other


key = Key()
d = {}
first_done = _thread.allocate_lock()  # orders the writes for real, invisibly to racewatch
first_done.acquire()


def first():
    d[key] = 1
    first_done.release()


def second():
    first_done.acquire()
    with key.lock:
        d[key] = 2  # the race is found here, with key.lock held


threads = [threading.Thread(target=first), threading.Thread(target=second)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(d[key])
