"""wait(timeout) timed out (the worker never sets the event): reading anyway is a race.

PATTERN: unsynchronized-handoff
"""
import threading

result = {}
done = threading.Event()


def compute():
    result["total"] = sum(range(10))  # RACE
    # Forgot done.set().


t = threading.Thread(target=compute)
t.start()
if not done.wait(timeout=0.05):
    print("timed out")
total = result.get("total")  # RACE
print(total in (None, 45))
t.join()
