"""Small lookups over a Trace dict, shared by the tracer tests."""
import textwrap

from gradtrace.schema import Trace
from gradtrace.tracer import trace


def run(code: str, seed: int = 0) -> dict:
    """Trace dedented `code` and check the result against the pydantic schema."""
    t = trace(textwrap.dedent(code).lstrip("\n"), seed=seed)
    Trace.model_validate(t)
    return t


def src(code: str) -> str:
    return textwrap.dedent(code).lstrip("\n")


def line_of(code: str, text: str) -> int:
    """1-based line of the first line of dedented `code` containing `text`."""
    return next(i for i, line in enumerate(src(code).splitlines(), 1) if text in line)


def tensor(t: dict, tid: str) -> dict:
    return next(x for x in t["tensors"] if x["id"] == tid)


def var(t: dict, name: str) -> dict:
    """The tensor a top-level name is bound to when the program ended."""
    return tensor(t, t["variables"][name])


def named(t: dict, name: str) -> list[dict]:
    return [x for x in t["tensors"] if x["name"] == name]


def node(t: dict, nid: str | None) -> dict | None:
    return next((n for n in t["nodes"] if n["id"] == nid), None) if nid else None


def node_of(t: dict, name: str) -> dict:
    """The grad_fn node of variable `name`."""
    return node(t, var(t, name)["grad_fn"])


def order(t: dict, i: int = 0) -> list[str]:
    """Node names of backward pass `i`, in the order the engine ran them."""
    return [node(t, s["node"])["name"] for s in t["backward"][i]["steps"]]


def steps_of(t: dict, i: int, node_name: str) -> list[dict]:
    return [s for s in t["backward"][i]["steps"] if node(t, s["node"])["name"] == node_name]


def vals(v: dict | None):
    return None if v is None else v["values"]


def ops(t: dict) -> list[str]:
    return [s["op"] for s in t["forward"]]
