"""main is one of the parties: after its wait() it reads what the workers wrote."""
import threading

barrier = threading.Barrier(3)
loaded = {"users": None, "orders": None}


def load(table, rows):
    loaded[table] = rows
    barrier.wait()


threads = [threading.Thread(target=load, args=("users", 2)),
           threading.Thread(target=load, args=("orders", 5))]
for t in threads:
    t.start()
barrier.wait()
print(sorted(loaded.items()))
for t in threads:
    t.join()
