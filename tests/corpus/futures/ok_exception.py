"""exception() hands over what a failing task wrote before it raised."""
from concurrent.futures import ThreadPoolExecutor

errors = {}


def parse(text):
    errors["input"] = text
    return int(text)


with ThreadPoolExecutor() as pool:
    future = pool.submit(parse, "twelve")
    exc = future.exception()
    print(type(exc).__name__, errors["input"])
