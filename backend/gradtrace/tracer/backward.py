"""Record each backward()/autograd.grad() call: node executions in the engine's real order, via node hooks."""
import torch

from .causes import explain
from .errors import error_of
from .ops import tensors_in
from .values import encode

_TENSOR_BACKWARD = ["self", "gradient", "retain_graph", "create_graph", "inputs"]
_AUTOGRAD_BACKWARD = ["tensors", "grad_tensors", "retain_graph", "create_graph", "grad_variables", "inputs"]
_AUTOGRAD_GRAD = ["outputs", "inputs", "grad_outputs", "retain_graph", "create_graph"]


def _parse(func, args, kwargs):
    """(call, roots, gradients, retain_graph, create_graph, inputs) of one backward-like call."""
    if func is torch.Tensor.backward:
        b = dict(zip(_TENSOR_BACKWARD, args), **kwargs)
        call, roots, grads = "backward", [b["self"]], b.get("gradient")
    elif func is torch.autograd.backward:
        b = dict(zip(_AUTOGRAD_BACKWARD, args), **kwargs)
        call, roots, grads = "backward", tensors_in(b.get("tensors")), b.get("grad_tensors", b.get("grad_variables"))
    else:
        b = dict(zip(_AUTOGRAD_GRAD, args), **kwargs)
        call, roots, grads = "grad", tensors_in(b.get("outputs")), b.get("grad_outputs")
    create = bool(b.get("create_graph") or False)
    retain = b.get("retain_graph")
    return call, roots, tensors_in(grads), create if retain is None else bool(retain), create, tensors_in(b.get("inputs"))


def _reachable(roots):
    seen, order, stack = set(), [], [t.grad_fn for t in roots if t.grad_fn is not None]
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        order.append(fn)
        stack.extend(child for child, _ in fn.next_functions if child is not None)
    return order


def _tensor_of(rec, node_rec):
    tid = node_rec["tensor"]
    return rec.reg.tensor_list[int(tid[1:]) - 1]["obj"] if tid else None


def _hooks_for(rec, p, fn, open_steps):
    node_rec = rec.reg.nodes[id(fn)]
    nid, enc = node_rec["id"], rec.limits.max_tensor_elements

    def pre(grad_outputs):
        if rec.backward_steps >= rec.limits.max_backward_steps:
            p["truncated"] = True
            return None
        rec.backward_steps += 1
        step = {"node": nid, "grad_outputs": [encode(g, enc) for g in grad_outputs], "grad_inputs": None}
        if rec.pending_hooks:
            step["hooks"], rec.pending_hooks = rec.pending_hooks, []
        p["steps"].append(step)
        open_steps[nid] = step
        return None

    def post(grad_inputs, grad_outputs):
        step = open_steps.pop(nid, None)
        if step is None:
            return None
        step["grad_inputs"] = [encode(g, enc) for g in grad_inputs]
        t = _tensor_of(rec, node_rec)
        if t is not None and (t.is_leaf or t.retains_grad) and t.grad is not None:
            step["tensor_grad"] = encode(t.grad, enc)
        return None

    return fn.register_prehook(pre), fn.register_hook(post)


def wrap_hook(rec, tensor, fn):
    """A user's tensor hook, reporting what it received and returned to the pass that runs it."""

    def hook(grad):
        result = fn(grad)
        if rec.active_pass is not None:
            enc = rec.limits.max_tensor_elements
            rec.pending_hooks.append({
                "tensor": rec.reg.tensor(tensor), "grad_in": encode(grad, enc),
                "grad_out": encode(result, enc) if isinstance(result, torch.Tensor) else None,
            })
        return result

    return hook


def run_pass(rec, func, args, kwargs):
    from .recorder import program_line

    call, roots, grads, retain, create, inputs = _parse(func, args, kwargs)
    line = program_line()
    root_ids = [rec.reg.tensor(t, line) for t in roots]
    for t in roots:
        rec.reg.node(t.grad_fn, None, t)
    p = {"call": call, "line": line, "root": root_ids[0] if root_ids else None,
         "gradient": encode(grads[0], rec.limits.max_tensor_elements) if grads else None,
         "retain_graph": retain, "create_graph": create, "steps": [], "error": None,
         "after_forward": len(rec.steps)}
    if inputs:
        p["inputs"] = [rec.reg.tensor(t) for t in inputs]
    fns = _reachable(roots)
    for fn in fns:
        rec.reg.node(fn)
    open_steps: dict = {}
    handles = [h for fn in fns for h in _hooks_for(rec, p, fn, open_steps)]
    rec.passes.append(p)
    rec.active_pass, rec.pending_hooks = p, []
    rec.quiet += 1
    try:
        out = func(*args, **kwargs)
    except BaseException as exc:
        p["error"] = error_of(exc)
        if p["error"]["line"] is None:  # raised inside the engine: the call's own line
            p["error"]["line"] = line
        cause = explain(rec, p, p["error"]["message"])
        if cause is not None:
            p["error"]["cause"] = cause
        raise
    finally:
        rec.quiet -= 1
        rec.active_pass = None
        for h in handles:
            h.remove()
        _after_pass(rec, p)
    if call == "grad":
        p["results"] = [rec.reg.tensor(t, line) for t in tensors_in(out)]
    if create:  # the pass recorded a graph of its own (for a second derivative): its nodes come from this line
        first_new = len(rec.reg.node_list)
        made = tensors_in(out) if call == "grad" else [
            rec.reg.tensor_list[int(tid[1:]) - 1]["obj"].grad for tid in p["grads_after"]]
        for g in made:
            if g is not None and g.grad_fn is not None:
                rec.reg.node(g.grad_fn, line, g)
        for r in rec.reg.node_list[first_new:]:
            if r["line"] is None and r["kind"] == "op":
                r["line"] = line
    return out


def _after_pass(rec, p):
    """Every `.grad` as it stands after the pass: the page shows accumulation from these."""
    enc = rec.limits.max_tensor_elements
    grads = {}
    for r in list(rec.reg.tensor_list):
        t = r["obj"]
        if (t.is_leaf or t.retains_grad) and t.grad is not None:
            grads[r["id"]] = encode(t.grad, enc)
            rec.reg.note_grad(t, t.grad)
    p["grads_after"] = grads
