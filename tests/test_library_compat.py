"""Real libraries that look closely at what they are handed behave as without racewatch.

Each program runs as ``python prog.py`` and as ``racewatch run prog.py`` (under the core of
this session): same output, same exit status, no race.  A library that is not installed
skips its test, with the reason.
"""

import importlib.util
import subprocess
import sys
import textwrap

import pytest
from corpus_tools import clean_env, run_plain, run_racewatch


def needs(module: str):
    return pytest.mark.skipif(importlib.util.find_spec(module) is None,
                              reason=f"{module} is not installed")


def assert_same_run(tmp_path, source: str, *args: str) -> str:
    program = tmp_path / "program.py"
    program.write_text(textwrap.dedent(source))
    plain = run_plain(program, *args)
    assert plain.status == 0, plain.stderr
    watched = run_racewatch(tmp_path, program, *args)
    assert watched.stdout == plain.stdout, watched.stderr
    assert watched.status == 0, watched.stderr
    assert watched.report is not None and watched.report["races"] == [], watched.stderr
    return plain.stdout


# -- locks ---------------------------------------------------------------------------------


@needs("trio")
def test_trio_runs_as_without_racewatch(tmp_path):
    """trio asserts ``lock.__class__.__module__ == "_thread"`` of the RLock of its entry
    queue (it needs the signal-safe C RLock): a lock that did not pass for one made
    ``trio.run`` raise TrioInternalError."""
    out = assert_same_run(tmp_path, """\
        import threading

        import trio

        results = {}


        def blocking(n):
            with threading.Lock():
                return n * n


        async def worker(n):
            results[n] = await trio.to_thread.run_sync(blocking, n)


        async def main():
            async with trio.open_nursery() as nursery:
                for n in range(4):
                    nursery.start_soon(worker, n)
            trio.lowlevel.current_trio_token().run_sync_soon(print, "from the entry queue")
            await trio.sleep(0.01)
            print(sorted(results.items()))


        trio.run(main)
        """)
    assert out == "from the entry queue\n[(0, 0), (1, 1), (2, 4), (3, 9)]\n"


# -- serializers that dispatch on the exact type ---------------------------------------------

DATA = """\
    import collections
    import io


    def attempt(label, f):
        try:
            result = f()
        except Exception as exc:
            print(f"{label}: {type(exc).__name__}: {exc}")
        else:
            print(f"{label}: {result!r}")


    def data():
        shared = {"b": [1, 2.5, None, True], "a": {"nested": "x"}, "t": (1, {"in": "tuple"})}
        return {"z": 1, "y": shared, "list": [shared, {"k": "v"}], "empty": {}, "é": "ü"}


    def keyed():
        return {1: {2: 3}, "s": {}}


    counts = collections.defaultdict(list, {"a": [1]})
    """


def dump_program(body: str) -> str:
    return textwrap.dedent(DATA) + textwrap.dedent(body)


SERIALIZERS = {
    "yaml": """\
        import yaml

        looped = data()
        looped["self"] = looped
        dumpers = ["SafeDumper", "Dumper", "CSafeDumper", "CDumper"]
        for name in [n for n in dumpers if hasattr(yaml, n)]:
            dumper = getattr(yaml, name)
            attempt(name, lambda: yaml.dump(data(), Dumper=dumper))
            attempt(f"{name} unsorted", lambda: yaml.dump(data(), Dumper=dumper, sort_keys=False))
            attempt(f"{name} keyed", lambda: yaml.dump(keyed(), Dumper=dumper))
            attempt(f"{name} defaultdict", lambda: yaml.dump(counts, Dumper=dumper))
            attempt(f"{name} loop", lambda: yaml.dump(looped, Dumper=dumper))
        attempt("safe_dump", lambda: yaml.safe_dump(data()))
        attempt("dump_all", lambda: yaml.dump_all([data(), keyed()]))


        class Mine(yaml.SafeDumper):
            pass


        Mine.add_representer(dict, lambda dumper, d: dumper.represent_str("a dict"))
        attempt("representer added later", lambda: yaml.dump(data(), Dumper=Mine))
        attempt("round trip", lambda: yaml.safe_load(yaml.safe_dump(data())) == data())
        """,
    "ruamel.yaml": """\
        from ruamel.yaml import YAML

        for typ in ("rt", "safe", "unsafe"):
            for pure in (True, False):
                def dump(value, typ=typ, pure=pure):
                    stream = io.StringIO()
                    YAML(typ=typ, pure=pure).dump(value, stream)
                    return stream.getvalue()
                attempt(f"{typ} pure={pure}", lambda: dump(data()))
                attempt(f"{typ} pure={pure} keyed", lambda: dump(keyed()))
        """,
    "msgpack": """\
        import msgpack
        from msgpack import fallback

        for strict in (False, True):
            attempt(f"packb strict={strict}", lambda: msgpack.packb(data(), strict_types=strict))
            attempt(f"keyed strict={strict}", lambda: msgpack.packb(keyed(), strict_types=strict))
            attempt(f"defaultdict strict={strict}",
                    lambda: msgpack.packb(counts, strict_types=strict))
            attempt(f"default strict={strict}",
                    lambda: msgpack.packb([data()], strict_types=strict, default=repr))
            attempt(f"fallback strict={strict}",
                    lambda: fallback.Packer(strict_types=strict).pack(data()))
        stream = io.BytesIO()
        attempt("pack", lambda: msgpack.pack(keyed(), stream, strict_types=True))
        attempt("packed", stream.getvalue)
        attempt("unpack", lambda: msgpack.unpackb(msgpack.packb(keyed(), strict_types=True),
                                                  strict_map_key=False))
        """,
    "orjson": """\
        import orjson

        options = sorted(name for name in dir(orjson) if name.startswith("OPT_"))
        for name in options + ["OPT_PASSTHROUGH_SUBCLASS | OPT_NON_STR_KEYS | OPT_SORT_KEYS"]:
            option = eval(name, vars(orjson))
            attempt(name, lambda: orjson.dumps(data(), option=option))
            attempt(f"{name} keyed", lambda: orjson.dumps(keyed(), option=option))
            attempt(f"{name} default",
                    lambda: orjson.dumps(counts, default=lambda x: f"default {x!r}", option=option))
            attempt(f"{name} positional", lambda: orjson.dumps(data(), None, option))
        """,
    "ujson": """\
        import ujson

        attempt("dumps", lambda: ujson.dumps(data()))
        attempt("sorted", lambda: ujson.dumps(data(), sort_keys=True, indent=2))
        attempt("defaultdict", lambda: ujson.dumps(counts))
        """,
    "simplejson": """\
        import simplejson

        attempt("dumps", lambda: simplejson.dumps(data()))
        attempt("sorted", lambda: simplejson.dumps(data(), sort_keys=True, indent="  "))
        attempt("for_json", lambda: simplejson.dumps(data(), for_json=True))
        attempt("pure", lambda: simplejson.encoder.JSONEncoder().encode(data()))
        attempt("defaultdict", lambda: simplejson.dumps(counts))
        """,
    "tomli_w": """\
        import tomli_w

        doc = {"table": {"a": 1, "rows": [{"x": 1}, {"x": 2}], "inner": {"b": "é"}}, "k": "v"}
        attempt("dumps", lambda: tomli_w.dumps(doc))
        attempt("multiline", lambda: tomli_w.dumps(doc, multiline_strings=True))
        attempt("bad", lambda: tomli_w.dumps({"k": None}))
        """,
    "cbor2": """\
        import cbor2

        attempt("dumps", lambda: cbor2.dumps(data()))
        attempt("canonical", lambda: cbor2.dumps(data(), canonical=True))
        attempt("value sharing", lambda: cbor2.dumps(data(), value_sharing=True))
        """,
    "msgspec": """\
        import msgspec

        attempt("json", lambda: msgspec.json.encode(data()))
        attempt("msgpack", lambda: msgspec.msgpack.encode(data()))
        attempt("sorted", lambda: msgspec.json.Encoder(order="sorted").encode(data()))
        attempt("to_builtins", lambda: msgspec.to_builtins(data()))
        """,
}


@pytest.mark.parametrize("library", list(SERIALIZERS))
def test_serializer_gives_what_it_gives_for_a_plain_dict(tmp_path, library):
    """Byte for byte the same output, and the same errors, for dicts the program makes
    (tracked under racewatch): PyYAML used to refuse them in its safe dumpers and write
    ``!!python/object/new:builtins.dict`` in its full ones, msgpack with strict_types and
    orjson with OPT_PASSTHROUGH_SUBCLASS to refuse them."""
    pytest.importorskip(library, reason=f"{library} is not installed")
    out = assert_same_run(tmp_path, dump_program(SERIALIZERS[library]))
    assert out.count("\n") >= 3


def test_a_copy_handed_to_a_serializer_is_a_read_of_the_dict(tmp_path):
    """A plain copy made for a strict serializer reads every key, as pickling does: it
    races with a write in another thread."""
    pytest.importorskip("msgpack", reason="msgpack is not installed")
    program = tmp_path / "program.py"
    program.write_text(textwrap.dedent("""\
        import threading

        import msgpack

        config = {"retries": 3}


        def writer():
            config["retries"] = 4  # RACE


        t = threading.Thread(target=writer)
        t.start()
        packed = msgpack.packb(config, strict_types=True)  # RACE
        t.join()
        print(len(packed) > 0)
        """))
    watched = run_racewatch(tmp_path, program)
    assert watched.stdout == "True\n", watched.stderr
    ops = {(r["current"]["op"], r["previous"]["op"]) for r in watched.report["races"]}
    assert ops & {("reduce", "setitem"), ("setitem", "reduce")}, watched.stderr


def test_yaml_imported_before_racewatch_started(tmp_path):
    """A library already imported (with a representer subclass of its own) is taught at
    start(); stop() takes every entry out again."""
    pytest.importorskip("yaml", reason="yaml is not installed")
    program = tmp_path / "program.py"
    program.write_text(textwrap.dedent("""\
        import yaml

        import racewatch


        class Mine(yaml.SafeDumper):
            pass


        Mine.add_representer(tuple, Mine.represent_list)


        def settings():
            return {"name": "x", "sizes": (1, 2)}


        racewatch.start()
        made = settings()
        print(racewatch.is_tracked(made), yaml.dump(made, Dumper=Mine), end="")
        racewatch.stop()
        print([t for t in Mine.yaml_representers if getattr(t, "__name__", "") == "dict"])
        """))
    run = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                         cwd=tmp_path, env=clean_env(), timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "True name: x\nsizes:\n- 1\n- 2\n[<class 'dict'>]\n", run.stderr
