"""Runs the benchmark runner's child processes, so that each one's peak memory is its own.

The peak resident memory that ``wait4`` reports for a child (``ru_maxrss``) is at least the
peak of the process it was forked from: Linux carries the forking process's high-water mark
into the child, and keeps it over ``exec``.  The runner, with racewatch loaded, is larger
than what several workloads use in all under plain Python, whose peaks then read as the
runner's size and their ratios too low.  This process starts with nothing imported
(``python -I -S``, 7-10 MB) and forks them: its own size is the floor now, below every
workload's peak.

Protocol: on stdin, one marshalled ``(argv, cwd, env)`` per child to run (its standard
streams on the null device); on stdout, one marshalled ``(wall seconds, peak KiB, wait
status)`` per child, once it has ended.  End of input: exit.
"""

import marshal
import os
import sys
import time


def run(argv, cwd, env):
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(cwd)
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss, status


def main():
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            argv, cwd, env = marshal.load(requests)
        except EOFError:
            return
        marshal.dump(run(argv, cwd, env), replies)
        replies.flush()


if __name__ == "__main__":
    main()
