"""The stack a program sees at module level: no frames below its own, and all the
recursion limit to itself."""

import inspect
import sys
import traceback
import warnings

print(len(inspect.stack()), sys._getframe().f_back is None, len(traceback.extract_stack()))
traceback.print_stack(file=sys.stdout)


def caller_warns():
    warnings.warn("from two levels up", stacklevel=3)


caller_warns()


def plain(n):
    return 0 if n == 0 else plain(n - 1) + 1


print(plain(sys.getrecursionlimit() - 5))
