"""Two threads write two different attributes of one object: different locations."""
import threading


class Progress:
    def __init__(self):
        self.downloaded = 0
        self.parsed = 0


progress = Progress()


def download():
    for _ in range(10):
        progress.downloaded += 1


def parse():
    for _ in range(10):
        progress.parsed += 1


threads = [threading.Thread(target=download), threading.Thread(target=parse)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(progress.downloaded, progress.parsed)
