"""A Condition over a plain Lock: wait()'s internal release and re-acquire are edges."""
import threading

lock = threading.Lock()
cond = threading.Condition(lock)
state = {"ready": False}
answers = {}


def waiter():
    with cond:
        while not state["ready"]:
            cond.wait()
        answers["seen"] = state["ready"]


t = threading.Thread(target=waiter)
t.start()
with cond:
    state["ready"] = True
    cond.notify_all()
t.join()
print(answers)
