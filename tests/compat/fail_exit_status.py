"""Exits with its own status after printing dicts to stdout and stderr."""

import sys

status = {"code": 3, "reason": "done"}
print(status)
print({"to": "stderr"}, file=sys.stderr)
sys.exit(status["code"])
