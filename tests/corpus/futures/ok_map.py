"""Executor.map hands over each task's outcome as it yields its result."""
from concurrent.futures import ThreadPoolExecutor

squares = {n: None for n in range(5)}


def square(n):
    squares[n] = n * n
    return n


with ThreadPoolExecutor(max_workers=2) as pool:
    for n in pool.map(square, list(squares)):
        print(n, squares[n])
