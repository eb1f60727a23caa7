"""A crawler whose workers share a "seen" set and a list of the pages they fetched.

Each worker does `if url not in seen: seen.add(url)`: two workers can both find a link
new and fetch it twice.  (Appending to `fetched` from every worker is fine: appends
commute; it is the check-then-add that races.)

    racewatch run examples/crawler_racy.py
"""

import threading
import time

LINKS = {
    "/": ["/docs", "/blog"],
    "/docs": ["/docs/api", "/"],
    "/blog": ["/docs", "/blog/2024"],
    "/docs/api": [],
    "/blog/2024": ["/docs/api"],
}

seen = {"/"}
fetched = []


def fetch(url):
    time.sleep(0.005)  # stands for the request
    fetched.append(url)
    return LINKS[url]


def crawl(start):
    todo = [start]
    while todo:
        url = todo.pop()
        for link in fetch(url):
            if link not in seen:
                seen.add(link)
                todo.append(link)


workers = [threading.Thread(target=crawl, args=(page,)) for page in ("/docs", "/blog")]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(sorted(seen))
