"""Run-time configuration that a function rebinds."""

mode = "fast"


def switch():
    global mode
    mode = "safe"  # RACE
