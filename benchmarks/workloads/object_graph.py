"""An object-graph simulation: 4 threads each move their own 2,000 particles for 40 steps
(attributes read and written on every step), through links to neighbours and to a shared,
read-only world object; the main thread made every object before starting them."""

import threading


class World:
    def __init__(self):
        self.width = 100.0
        self.height = 100.0
        self.friction = 0.99


class Particle:
    def __init__(self, n, world):
        self.world = world
        self.x = float(n % 100)
        self.y = float(n // 100)
        self.vx = 0.5 + (n % 7) * 0.1
        self.vy = 0.3 + (n % 5) * 0.1
        self.neighbour = None
        self.bounces = 0

    def step(self):
        world = self.world
        self.x += self.vx
        self.y += self.vy
        if not 0.0 <= self.x <= world.width:
            self.vx = -self.vx
            self.bounces += 1
        if not 0.0 <= self.y <= world.height:
            self.vy = -self.vy
            self.bounces += 1
        self.vx *= world.friction
        self.vy *= world.friction
        other = self.neighbour
        return abs(self.x - other.x) + abs(self.y - other.y)


world = World()
groups = []
for g in range(4):
    group = [Particle(g * 2000 + n, world) for n in range(2000)]
    for a, b in zip(group, group[1:] + group[:1], strict=True):
        a.neighbour = b
    groups.append(group)


def simulate(group, out):
    spread = 0.0
    for _ in range(40):
        for p in group:
            spread += p.step()
    out.append((round(spread), sum(p.bounces for p in group)))


out = []
threads = [threading.Thread(target=simulate, args=(group, out)) for group in groups]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(out))
