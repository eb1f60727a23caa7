"""wait(timeout) that returns True saw the flag set: it is an edge like wait()."""
import threading

result = {}
done = threading.Event()


def compute():
    result["total"] = sum(range(10))
    done.set()


t = threading.Thread(target=compute)
t.start()
while not done.wait(timeout=0.01):
    pass
print(result["total"])
t.join()
