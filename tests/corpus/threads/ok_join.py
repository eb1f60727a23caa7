"""main writes before start (the worker reads it), the worker writes before main joins."""
import threading

config = {"factor": 3}
results = {}


def work():
    results["answer"] = config["factor"] * 14


t = threading.Thread(target=work)
t.start()
t.join()
print(results["answer"])
config["factor"] = 4
print(config)
