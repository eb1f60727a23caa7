"""result() hands over everything the task did before it returned."""
from concurrent.futures import ThreadPoolExecutor

cache = {"users": None}


def load_users():
    cache["users"] = ["ann", "bob"]
    cache["loaded_by"] = "worker"
    return len(cache["users"])


with ThreadPoolExecutor() as pool:
    future = pool.submit(load_users)
    count = future.result()
    print(count, cache["users"], cache["loaded_by"])
