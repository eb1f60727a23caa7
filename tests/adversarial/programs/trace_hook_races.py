"""A race found while a trace function is installed, in every thread."""
# races: 1
import sys
import threading

events = []


def tracer(frame, event, arg):
    if event == "line":
        events.append(frame.f_lineno)
    return tracer


d = {}


def work(v):
    d["k"] = v


threading.settrace(tracer)
sys.settrace(tracer)
threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
sys.settrace(None)
threading.settrace(None)
print(len(d), bool(events))
