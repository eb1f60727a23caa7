"""Reading a method is no access (it is the class's code): two threads call one object's
method at once.  A value of the object's own that hides it is the object's attribute,
installed before the threads that call it start: ordered, no race.  A staticmethod and a
classmethod read through an instance are the class's too."""
import threading


class Job:
    def on_done(self):
        return "default"

    @staticmethod
    def kind():
        return "job"

    @classmethod
    def family(cls):
        return cls.__name__


job = Job()


def call(out):
    out.append((job.on_done(), job.kind(), job.family()))


out = []
threads = [threading.Thread(target=call, args=(out,)) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
job.on_done = lambda: "custom"
threads = [threading.Thread(target=call, args=(out,)) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(out))
