"""_thread.start_new_thread: what main wrote before starting the thread is ordered before it."""
import _thread
import threading

table = {"greeting": "hello"}
done = threading.Event()


def work():
    print(table["greeting"])
    done.set()


_thread.start_new_thread(work, ())
done.wait()
