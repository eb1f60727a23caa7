"""Recursion close to the limit through a function that reads and writes a dict.

The probe measures how deep a call chain can still go from here, so this program does not
depend on how many frames lie below its module (stack_depth.py is about those).
"""


def probe(n=0):
    try:
        return probe(n + 1)
    except RecursionError:
        return n


room = probe()
memo = {}


def memoized(n):
    if n == 0:
        return 0
    if n in memo:
        return memo[n]
    memo[n] = result = memoized(n - 1) + 1
    return result


for margin in (10, 5, 3, 2, 1):
    memo.clear()
    try:
        print(margin, memoized(room - margin) == room - margin)
    except RecursionError:
        print(margin, "RecursionError")
