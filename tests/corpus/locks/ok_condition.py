"""Producer/consumer with a Condition: wait() re-acquires the lock the notifier released."""
import threading

cond = threading.Condition()
mailbox = {}


def producer():
    for i in range(5):
        with cond:
            mailbox[i] = i * 10
            cond.notify()


def consumer(out):
    for i in range(5):
        with cond:
            cond.wait_for(lambda i=i: i in mailbox)
            out.append(mailbox.pop(i))


out = []
threads = [threading.Thread(target=consumer, args=(out,)), threading.Thread(target=producer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
