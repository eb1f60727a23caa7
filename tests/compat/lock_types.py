"""What a program can see of threading.Lock and RLock: type, class, repr, pickling, copying.

trio asserts ``lock.__class__.__module__ == "_thread"``; other libraries test isinstance
against ``_thread.LockType``, print a lock, or try to pickle an object that holds one.
"""

import _thread
import copy
import pickle
import sys
import threading
import weakref


def attempt(label, f):
    try:
        result = f()
    except Exception as exc:
        print(f"  {label}: {type(exc).__name__}: {exc}")
    else:
        print(f"  {label}: {result!r}" if not isinstance(result, (bytes, tuple)) else
              f"  {label}: {type(result).__name__}")


def show(lock):
    text = repr(lock).replace(f"{id(lock):#x}", "<its id>")
    return text.replace(f"owner={threading.get_ident()} ", "owner=<this thread> ")


def describe(name, lock):
    t = type(lock)
    print(name, t, t.__module__, t.__name__, t.__qualname__, lock.__class__)
    print(" ", lock.__class__.__module__ == "_thread", t.__doc__ == lock.__class__.__doc__)
    print(" ", isinstance(lock, _thread.LockType), isinstance(lock, _thread.RLock),
          issubclass(lock.__class__, _thread.LockType))
    print(" ", show(lock))
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        attempt(f"pickle {protocol}", lambda p=protocol: pickle.dumps(lock, p))
    attempt("pickle, pure", lambda: pickle._dumps(lock))
    attempt("copy", lambda: copy.copy(lock))
    attempt("deepcopy", lambda: copy.deepcopy({"lock": lock}))
    attempt("__reduce__", lambda: lock.__reduce__())
    attempt("__reduce_ex__(2)", lambda: lock.__reduce_ex__(2))
    attempt("__getstate__", lambda: lock.__getstate__())
    print("  hasattr __getstate__", hasattr(lock, "__getstate__"))
    attempt("vars", lambda: vars(lock))
    attempt("set attribute", lambda: setattr(lock, "owner", "me"))
    attempt("get attribute", lambda: lock.owner)
    attempt("__class__ =", lambda: setattr(lock, "__class__", dict))
    print("  dir", [n for n in dir(lock) if not n.startswith("__")])
    ref = weakref.ref(lock)
    print("  weakref", ref() is lock, weakref.proxy(lock).acquire(), lock.release())
    with lock:
        print("  in with", show(lock))
    print("  acquired", lock.acquire(False), lock.acquire(timeout=0.01), show(lock))
    lock.release()
    attempt("release", lambda: lock.release())
    attempt("release again", lambda: lock.release())


describe("Lock", threading.Lock())
describe("RLock", threading.RLock())
print(threading.RLock.__module__, threading.RLock.__name__, threading.RLock.__qualname__,
      threading.RLock.__doc__ == threading._CRLock.__doc__ or threading.RLock.__doc__)
attempt("Lock(1)", lambda: threading.Lock(1))

# Old aliases of the lock's methods (up to 3.13).
lock = threading.Lock()
for alias in ("acquire_lock", "release_lock", "locked_lock"):
    if hasattr(_thread.LockType, alias):
        print(alias, getattr(lock, alias)())

# The locks of a Condition, and a class that holds a lock (made unpicklable by it).
cond = threading.Condition()
print(isinstance(cond._lock, _thread.RLock), show(cond._lock).split(" object")[0])
with cond:
    print(cond.wait(0.001), cond._is_owned())


class Holder:
    def __init__(self):
        self.lock = threading.Lock()


attempt("pickle a holder", lambda: pickle.dumps(Holder()))
attempt("deepcopy a holder", lambda: copy.deepcopy(Holder()))

if sys.version_info >= (3, 13):
    # threading.Lock is a type from 3.13 on: any lock is an instance of it.
    print(isinstance(_thread.allocate_lock(), threading.Lock), isinstance(lock, threading.Lock),
          issubclass(_thread.LockType, threading.Lock), isinstance(cond, threading.Lock))
