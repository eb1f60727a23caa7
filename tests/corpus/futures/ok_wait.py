"""wait() orders the caller after the end of every future in its done set."""
from concurrent.futures import ThreadPoolExecutor, wait

pages = {n: None for n in range(4)}


def crawl(n):
    pages[n] = f"page {n}"


with ThreadPoolExecutor(max_workers=2) as pool:
    done, not_done = wait([pool.submit(crawl, n) for n in pages])
    print(len(done), len(not_done), sorted(pages.values()))
