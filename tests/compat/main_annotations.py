"""__main__ starts with an empty __annotations__, as python gives it to a script."""

print("__annotations__" in vars(), sorted(vars()))
print(__annotations__)
