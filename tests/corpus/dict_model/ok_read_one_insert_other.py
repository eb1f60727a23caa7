"""Reading key 1 while another thread inserts key 2 is not a race (SPEC section 2)."""
import threading

table = {1: "one"}
barrier = threading.Barrier(2)


def reader(out):
    barrier.wait()
    out.append(table[1])


def inserter():
    barrier.wait()
    table[2] = "two"


out = []
threads = [threading.Thread(target=reader, args=(out,)), threading.Thread(target=inserter)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out, sorted(table))
