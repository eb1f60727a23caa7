"""The crawler, fixed: the check and the add happen under one lock, so each link is
claimed by one worker only.  Appending to `fetched` needs no lock: appends commute.

    racewatch run examples/crawler_fixed.py
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
seen_lock = threading.Lock()
fetched = []


def fetch(url):
    time.sleep(0.005)  # stands for the request
    fetched.append(url)
    return LINKS[url]


def claim(link):
    with seen_lock:
        if link in seen:
            return False
        seen.add(link)
        return True


def crawl(start):
    todo = [start]
    while todo:
        url = todo.pop()
        for link in fetch(url):
            if claim(link):
                todo.append(link)


workers = [threading.Thread(target=crawl, args=(page,)) for page in ("/docs", "/blog")]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(sorted(seen))
