"""The program dies of an uncaught KeyboardInterrupt (as at a Ctrl-C).

python prints the traceback, runs the atexit handlers, finalizes (the open file below is
flushed as its object goes), and then kills itself with SIGINT so that its parent sees it
die of the signal: status -2 under subprocess, 130 in a shell.
"""
# races: 0
import atexit
import os

atexit.register(lambda: print("atexit handlers ran"))
out = open(os.path.join(os.getcwd(), "interrupted.txt"), "w")
out.write("written before the interrupt")
print("interrupting")
raise KeyboardInterrupt
