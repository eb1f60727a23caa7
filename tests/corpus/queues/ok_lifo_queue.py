"""LifoQueue: each get() is ordered after the put() of the item it returns (newest first)."""
import queue
import threading

stack = queue.LifoQueue()
frames = {}


def push():
    for depth in range(3):
        name = f"frame{depth}"
        frames[name] = depth
        stack.put(name)


t = threading.Thread(target=push)
t.start()
seen = [frames[stack.get()] for _ in range(3)]
print(sorted(seen))
t.join()
