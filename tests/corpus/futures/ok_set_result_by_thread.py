"""A Future completed by a plain thread with set_result: result() is ordered after it."""
import threading
from concurrent.futures import Future

response = {"status": None}


def handle(future):
    response["status"] = 200
    response["body"] = "ok"
    future.set_result(response["status"])


future = Future()
t = threading.Thread(target=handle, args=(future,))
t.start()
print(future.result(), response["body"])
t.join()
