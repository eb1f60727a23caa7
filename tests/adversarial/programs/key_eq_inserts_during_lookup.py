"""A key whose ``__eq__`` inserts into the dict while the dict is looking it up."""
# races: 0
import threading


class Meddling:
    def __init__(self, name):
        self.name = name

    def __hash__(self):
        return 1

    def __eq__(self, other):
        if len(d) < 5:
            d[f"inserted by eq {len(d)}"] = True
        return self is other


idle = threading.Event()
bystander = threading.Thread(target=idle.wait)  # two threads alive: every access counts
bystander.start()
d = {}
first, second = Meddling("first"), Meddling("second")
d[first] = 1
d[second] = 2
idle.set()
bystander.join()
print(len(d))
