"""items() reads every key: an update of any key races with it.

PATTERN: iteration-while-changing
"""
import threading

prices = {"apple": 1.0, "pear": 2.0}


def reprice():
    prices["pear"] = 2.5  # RACE


def total(out):
    out.append(round(sum(v for _, v in prices.items())) > 0)  # RACE


out = []
threads = [threading.Thread(target=reprice), threading.Thread(target=total, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
