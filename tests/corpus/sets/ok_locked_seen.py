"""The "seen" filter done right: check-then-add under one lock."""
import threading

lock = threading.Lock()
seen = set()
fetched = []


def crawl(url):
    with lock:
        if url in seen:
            return
        seen.add(url)
    fetched.append(url)


threads = [threading.Thread(target=crawl, args=("https://example.org/",)) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(seen), fetched)
