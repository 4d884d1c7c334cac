"""Assemble the final Trace dict from a recorder: tensors and nodes as they stand when the program ended."""
import torch

from .budget import fit
from .compact import resolve


_DTYPES: dict = {}  # torch.dtype -> its name without "torch."


def _tensor(rec, r: dict) -> dict:
    t, snap = r["obj"], rec.reg.values.snap
    try:
        leaf, retains, fn, dtype = t.is_leaf, t.retains_grad, t.grad_fn, t.dtype  # each a C property call: read once
    except RuntimeError:  # a no_grad view whose base changed in place (Adam's view_as_real of a complex parameter)
        leaf, retains, fn, dtype = True, False, None, t.dtype
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
        "grad_of": r["grad_of"], "line": r["line"], **({"tied": r["tied"]} if r.get("tied") else {}),
    }


def prune_data_changes(steps: list, tensors: list, keys: list) -> None:
    """ForwardStep.data_changes keeps only news: not a value equal to what the trace last showed for that tensor, nor
    the only value a tensor ever shows when it equals its final `data` (the page shows that one anyway)."""
    def key(ref):
        return keys[ref] if isinstance(ref, int) and 0 <= ref < len(keys) and keys[ref] is not None else ("ref", ref)

    last, writes = {}, {}
    for s in steps:
        changes = s.get("data_changes")
        if changes:
            for tid in list(changes):
                k = key(changes[tid])
                if last.get(tid, last) == k:
                    del changes[tid]
                    continue
                last[tid] = k
                writes[tid] = writes.get(tid, 0) + 1
        for tid, ref in zip(s["outputs"], s["values"]):
            last[tid] = key(ref)
            writes[tid] = writes.get(tid, 0) + 1
    final = {t["id"]: key(t["data"]) for t in tensors}
    for s in steps:
        changes = s.get("data_changes")
        if changes is None:
            continue
        for tid in [tid for tid, ref in changes.items() if writes.get(tid) == 1 and final.get(tid) == key(ref)]:
            del changes[tid]
        if not changes:
            del s["data_changes"]


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
    rec.paths.finish()  # module trees as they ended (weights tied after construction, layers added late)
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
    prune_data_changes(rec.steps, tensors, keys)
    trace = resolve(trace, values, keys, fmt)
    shrunk = fit(trace, rec.limits.max_trace_bytes)
    if shrunk:
        trace["omitted"] = {**(trace.get("omitted") or {"forward_steps": 0, "backward_passes": 0, "nodes": 0}),
                            "reason": "; ".join(filter(None, [rec.omitted_reason, shrunk]))}
    return trace
