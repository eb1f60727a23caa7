"""A class-based LRU cache (a dict of nodes in a doubly linked list, as functools' pure
version keeps it) shared by 4 threads behind one lock: attribute-heavy pointer chasing."""

import threading


class Node:
    __slots__ = ("key", "value", "prev", "next")

    def __init__(self, key=None, value=None):
        self.key = key
        self.value = value
        self.prev = self.next = self


class LRUCache:
    def __init__(self, capacity):
        self.capacity = capacity
        self.table = {}
        self.root = Node()
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def _unlink(self, node):
        node.prev.next = node.next
        node.next.prev = node.prev

    def _push_front(self, node):
        root = self.root
        node.next = root.next
        node.prev = root
        root.next.prev = node
        root.next = node

    def get(self, key, compute):
        with self.lock:
            node = self.table.get(key)
            if node is not None:
                self._unlink(node)
                self._push_front(node)
                self.hits += 1
                return node.value
            self.misses += 1
        value = compute(key)
        with self.lock:
            if key not in self.table:
                node = Node(key, value)
                self.table[key] = node
                self._push_front(node)
                if len(self.table) > self.capacity:
                    last = self.root.prev
                    self._unlink(last)
                    del self.table[last.key]
        return value


cache = LRUCache(500)


def work(seed, out):
    total = 0
    for n in range(40_000):
        key = (seed * 7919 + n * n) % 700
        total += cache.get(key, lambda k: k * 3)
    out.append(total)


out = []
threads = [threading.Thread(target=work, args=(s, out)) for s in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(out), cache.hits + cache.misses)
