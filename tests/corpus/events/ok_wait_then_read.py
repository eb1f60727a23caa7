"""A loader fills the cache and sets an Event; the reader waits for it, then reads."""
import threading

cache = {}
loaded = threading.Event()


def load():
    cache["config"] = {"retries": 3}
    cache["users"] = ["alice", "bob"]
    loaded.set()


t = threading.Thread(target=load)
t.start()
loaded.wait()
print(cache["config"]["retries"], sorted(cache))
t.join()
