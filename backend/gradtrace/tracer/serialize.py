"""Assemble the final Trace dict from a recorder: tensors and nodes as they stand when the program ended."""
import torch

from .budget import fit
from .compact import resolve


_DTYPES: dict = {}  # torch.dtype -> its name without "torch."


def _tensor(rec, r: dict) -> dict:
    t, snap = r["obj"], rec.reg.values.snap
    leaf, retains, fn, dtype = t.is_leaf, t.retains_grad, t.grad_fn, t.dtype  # each a C property call: read once
    grad = t.grad if leaf or retains else None  # reading .grad of other non-leaves only warns
    name = _DTYPES.get(dtype)
    if name is None:
        name = _DTYPES[dtype] = str(dtype).replace("torch.", "")
    return {
        "id": r["id"], "name": r["name"], "shape": list(t.shape), "dtype": name,
        "requires_grad": t.requires_grad, "is_leaf": leaf, "retains_grad": retains,
        "grad_fn": rec.reg.node(fn, None, t) if fn is not None else None,
        # fresh for a leaf: it may have changed through a `.data` alias, which bumps no version
        "data": snap(t, track=True, fresh=leaf), "grad": snap(grad) if grad is not None else None,
        "grad_of": r["grad_of"], "line": r["line"],
    }


def _node(r: dict) -> dict:
    return {"id": r["id"], "name": r["name"], "tensor": r["tensor"], "next": r["next"], "saved": r["saved"],
            "line": r["line"], "kind": r["kind"]}


def _omitted(rec) -> dict | None:
    counts = dict(rec.omitted, nodes=rec.omitted["nodes"] + rec.reg.omitted_nodes)
    if rec.omitted_reason is None and not any(counts.values()):
        return None
    return {**counts, "reason": rec.omitted_reason or "a trace limit was reached"}


def build_trace(rec, error, stdout: str, namespace: dict, notes: list, stderr: str = "", fmt: str = "full") -> dict:
    loops = rec.loops.finish() if rec.loops is not None else []
    rec.skip_reason = None  # the final state is recorded whatever the program's last stretch was
    variables = {}
    for name, value in list(namespace.items()):
        if isinstance(value, torch.Tensor) and not name.startswith("__"):
            variables[name] = rec.reg.tensor(value)
            rec.reg.name(value, name)
    tensors, i = [], 0
    while i < len(rec.reg.tensor_list):  # serializing can register grad_fn nodes, which can add leaves
        tensors.append(_tensor(rec, rec.reg.tensor_list[i]))
        i += 1
    rec.reg.fill_lines()
    trace = {
        "version": 1,
        "status": "error" if error else "ok",
        "error": error,
        "stdout": stdout,
        "tensors": tensors,
        "nodes": [_node(r) for r in rec.reg.node_list],
        "forward": rec.steps,
        "backward": rec.passes,
        "variables": variables,
        "warnings": notes,
        "stderr": stderr,
    }
    if loops:
        trace["loops"] = loops
    if rec.module_tree:
        trace["modules"] = list(rec.module_tree.values())
    omitted = _omitted(rec)
    if omitted:
        trace["omitted"] = omitted
    values, keys = rec.reg.values.finish()
    trace = resolve(trace, values, keys, fmt)
    shrunk = fit(trace, rec.limits.max_trace_bytes)
    if shrunk:
        trace["omitted"] = {**(trace.get("omitted") or {"forward_steps": 0, "backward_passes": 0, "nodes": 0}),
                            "reason": "; ".join(filter(None, [rec.omitted_reason, shrunk]))}
    return trace
