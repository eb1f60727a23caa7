"""put_nowait() and get(timeout=...) polling: the edge is the same as put() and get()."""
import queue
import threading

updates = queue.Queue(maxsize=4)
prices = {"tea": None, "coffee": None}


def feed():
    for name, price in (("tea", 3), ("coffee", 4)):
        prices[name] = price
        updates.put_nowait(name)


t = threading.Thread(target=feed)
t.start()
received = []
while len(received) < 2:
    try:
        name = updates.get(timeout=0.01)
    except queue.Empty:
        continue
    received.append((name, prices[name]))
print(received)
t.join()
