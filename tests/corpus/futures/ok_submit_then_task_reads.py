"""What main writes before submit() is visible to the task; its result() orders main after."""
from concurrent.futures import ThreadPoolExecutor

config = {}


def render(name):
    return config["template"].format(name=name)


with ThreadPoolExecutor(max_workers=2) as pool:
    config["template"] = "hello, {name}"
    future = pool.submit(render, "ann")
    print(future.result())
    config["template"] = "bye, {name}"
    print(pool.submit(render, "bob").result())
