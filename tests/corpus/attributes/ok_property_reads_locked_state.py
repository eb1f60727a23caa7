"""A property whose getter and setter take the lock: the name itself is not a location, what
the property's code touches is, and it does so under the lock."""
import threading


class Account:
    def __init__(self):
        self._lock = threading.Lock()
        self._balance = 0

    @property
    def balance(self):
        with self._lock:
            return self._balance

    @balance.setter
    def balance(self, value):
        with self._lock:
            self._balance = value


account = Account()


def deposit():
    for _ in range(10):
        with account._lock:
            account._balance += 1


def audit(out):
    out.append(account.balance >= 0)


out = []
threads = [threading.Thread(target=deposit), threading.Thread(target=audit, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
account.balance = 0
print(out, account.balance)
