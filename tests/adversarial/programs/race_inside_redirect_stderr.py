"""A race while the program redirects stderr into a buffer of its own, which it prints.

The report belongs on the process's stderr, not in the program's buffer.
"""
# races: 1
import contextlib
import io
import threading

d = {}
captured = io.StringIO()


def work(v):
    d["j"] = v


with contextlib.redirect_stderr(captured):
    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
print("captured:", repr(captured.getvalue()))
