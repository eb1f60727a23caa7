"""Containers made while the garbage collector runs: in a finalizer of cyclic garbage, in
a weakref callback, in a gc callback, and between collections that the allocations
themselves start.  Each is made where the collector is in the middle of its lists."""

import gc
import weakref

made = []


class Cyclic:
    def __init__(self, n):
        self.n = n
        self.me = self   # garbage only the collector frees

    def __del__(self):
        made.append(sum(len([[i] for i in range(self.n % 7)]) for _ in range(3)))
        made.append(len({i: [i] for i in range(self.n % 5)}))


class Target:
    pass


def on_collect(phase, info):
    if phase == "stop":
        made.append(len({frozenset([i]) for i in range(3)}))


def dropped(ref):
    made.append(len([[j] for j in range(4)]))


gc.callbacks.append(on_collect)
keep = []
try:
    for n in range(300):
        Cyclic(n)
        target = Target()
        keep.append(weakref.ref(target, dropped))
        target.me = target
        del target
        keep.append([[k, [k]] for k in range(20)])   # collections start in here
        if n % 50 == 0:
            gc.collect()
    gc.collect()
finally:
    gc.callbacks.remove(on_collect)

print("finalizers and callbacks made", len(made) > 300, "containers")
print("kept", sum(len(x) for x in keep if isinstance(x, list)))
