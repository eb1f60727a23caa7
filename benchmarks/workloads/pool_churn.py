"""A thread pool churning through 10,000 short tasks; each parses a record into a dict,
and results are merged by the caller as futures complete."""

from concurrent.futures import ThreadPoolExecutor, as_completed


def parse(n):
    record = {"id": n, "fields": {}}
    for part in f"a={n} b={n * 2} c={n % 7} d=x{n}".split():
        key, value = part.split("=")
        record["fields"][key] = value
    return record


totals = {}
with ThreadPoolExecutor(max_workers=8) as pool:
    futures = [pool.submit(parse, n) for n in range(10_000)]
    for future in as_completed(futures):
        record = future.result()
        c = record["fields"]["c"]
        totals[c] = totals.get(c, 0) + 1
print(sorted(totals.items()))
