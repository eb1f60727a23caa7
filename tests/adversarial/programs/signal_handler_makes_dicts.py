"""A SIGALRM handler makes and writes new dicts while the main thread does the same.

A signal handler runs between two bytecodes of the main thread, and so possibly in the
middle of racewatch attaching its state to a new dict.
"""
# races: 0
# timeout: 10
# slow: yes
import signal
import threading

handled = []


def on_alarm(signum, frame):
    fresh = {}
    fresh["from the handler"] = len(handled)
    handled.append(fresh)


idle = threading.Event()
bystander = threading.Thread(target=idle.wait)  # two threads alive: every access counts
bystander.start()
signal.signal(signal.SIGALRM, on_alarm)
signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)
made = 0
while len(handled) < 300:
    mine = {}
    mine["from main"] = made
    made += 1
signal.setitimer(signal.ITIMER_REAL, 0)
idle.set()
bystander.join()
print("handled 300 alarms:", len(handled) >= 300)
