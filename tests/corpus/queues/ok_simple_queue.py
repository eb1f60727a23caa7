"""SimpleQueue: put(item) before the get() that returns it, for each of several producers."""
import queue
import threading

inbox = queue.SimpleQueue()
messages = {"ann": None, "bob": None}


def send(sender):
    messages[sender] = f"hello from {sender}"
    inbox.put(sender)


threads = [threading.Thread(target=send, args=(s,)) for s in ("ann", "bob")]
for t in threads:
    t.start()
received = sorted(messages[inbox.get()] for _ in threads)
print(received)
for t in threads:
    t.join()
