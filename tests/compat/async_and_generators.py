"""Dict displays and comprehensions inside generators and coroutines, with yield and await."""

import asyncio


def pairs():
    got = {"first": (yield "a"), "second": (yield "b")}
    yield got
    yield {"nested": {"value": (yield "c")}}


gen = pairs()
print(next(gen), gen.send(1), gen.send(2), next(gen), gen.send("C"))


async def fetch(key):
    await asyncio.sleep(0)
    return key.upper()


async def agen():
    for key in "pq":
        yield key, await fetch(key)


async def main():
    direct = {"a": await fetch("a"), "b": await fetch("b")}
    comprehended = {k: await fetch(k) for k in "cd"}
    from_agen = {k: v async for k, v in agen()}
    gathered = dict(zip("ef", await asyncio.gather(fetch("e"), fetch("f")), strict=True))
    return direct, comprehended, from_agen, gathered, type(from_agen) is dict


print(asyncio.run(main()))
