"""threading.Lock is the factory _thread offers: allocate_lock up to 3.12, the type on 3.13."""

import _thread
import sys
import threading

plain_factory = _thread.LockType if sys.version_info >= (3, 13) else _thread.allocate_lock
print(threading.Lock is plain_factory)
