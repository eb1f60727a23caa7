"""get() and setdefault() that find a key gone are ordered after its value's death: a cache
of connection objects held weakly, each with the lock that guards its statistics."""
import threading
import time
import weakref


class Connection:
    def __init__(self, host):
        self.host = host
        self.lock = threading.Lock()


pool = weakref.WeakValueDictionary()
pool_lock = threading.Lock()
stats = {"db": 0}


def connection(host):
    with pool_lock:
        conn = pool.get(host)
        if conn is None:
            conn = pool.setdefault(host, Connection(host))
        return conn


def query():
    conn = connection("db")
    with conn.lock:
        stats["db"] += 1


first = threading.Thread(target=query)
first.start()
time.sleep(0.2)
second = threading.Thread(target=query)
second.start()
first.join()
second.join()
print(stats["db"])
