"""Check-then-act on an attribute: both threads can pass the balance check before either
withdraws, and the account goes below zero.  Not a lazy initialization: the balance is
never unset, only out of date.

PATTERN: check-then-act
"""
import threading


class Account:
    def __init__(self, balance):
        self.balance = balance

    def withdraw(self, amount):
        if self.balance >= amount:  # RACE
            self.balance -= amount  # RACE
            return True
        return False


account = Account(100)
threads = [threading.Thread(target=account.withdraw, args=(80,)) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(account.balance in (20, -60))
