"""A set used as a "seen" filter, check-then-add in two threads: both may see the URL as
new and fetch it twice.

PATTERN: check-then-act
"""
import threading

seen = set()
fetched = []


def crawl(url):
    if url not in seen:  # RACE
        seen.add(url)  # RACE
        fetched.append(url)


threads = [threading.Thread(target=crawl, args=("https://example.org/",)) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(seen), len(fetched) >= 1)
