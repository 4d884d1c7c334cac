"""Assemble the final Trace dict from a recorder: tensors and nodes as they stand when the program ended."""
import torch

from .values import encode


def _tensor(rec, r: dict) -> dict:
    t, limit = r["obj"], rec.limits.max_tensor_elements
    has_grad_slot = t.is_leaf or t.retains_grad  # reading .grad of other non-leaves only warns
    grad = t.grad if has_grad_slot else None
    return {
        "id": r["id"], "name": r["name"], "shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""),
        "requires_grad": t.requires_grad, "is_leaf": t.is_leaf, "retains_grad": t.retains_grad,
        "grad_fn": rec.reg.node(t.grad_fn, None, t) if t.grad_fn is not None else None,
        "data": encode(t, limit), "grad": encode(grad, limit) if grad is not None else None,
        "grad_of": r["grad_of"], "line": r["line"],
    }


def _node(r: dict) -> dict:
    return {k: r[k] for k in ("id", "name", "tensor", "next", "saved", "line", "kind")}


def build_trace(rec, error, stdout: str, namespace: dict, notes: list, stderr: str = "") -> dict:
    variables = {}
    for name, value in list(namespace.items()):
        if isinstance(value, torch.Tensor) and not name.startswith("__"):
            variables[name] = rec.reg.tensor(value)
            rec.reg.name(value, name)
    tensors, i = [], 0
    while i < len(rec.reg.tensor_list):  # serializing can register grad_fn nodes, which can add leaves
        tensors.append(_tensor(rec, rec.reg.tensor_list[i]))
        i += 1
    return {
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
