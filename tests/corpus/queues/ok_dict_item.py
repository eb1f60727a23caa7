"""A dict put into a queue is handed over whole: the consumer may read and change it."""
import queue
import threading

orders = queue.Queue()


def cashier():
    order = {"item": "tea", "qty": 2}
    orders.put(order)


def kitchen(out):
    order = orders.get()
    order["status"] = "cooking"
    out.append(sorted(order.items()))


out = []
threads = [threading.Thread(target=cashier), threading.Thread(target=kitchen, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
