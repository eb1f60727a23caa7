"""The writer holds the lock, the reader does not: the lock orders nothing.

PATTERN: inconsistent-locking
"""
import threading


class Config:
    def __init__(self):
        self.lock = threading.Lock()
        self.timeout = 1.0


config = Config()


def reload():
    with config.lock:
        config.timeout = 2.5  # RACE


def use(out):
    out.append(config.timeout > 0)  # RACE


out = []
threads = [threading.Thread(target=reload), threading.Thread(target=use, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
