"""A plain class attribute read through an instance is the class's location: a thread that
rebinds it on the class races with a thread that reads it through an instance.

PATTERN: unsynchronized-handoff
"""
import threading


class Settings:
    level = 1


settings = Settings()


def raise_level():
    Settings.level = 2  # RACE


def read(out):
    out.append(settings.level > 0)  # RACE


out = []
threads = [threading.Thread(target=raise_level), threading.Thread(target=read, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
