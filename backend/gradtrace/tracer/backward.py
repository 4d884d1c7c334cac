"""Record each backward()/autograd.grad() call: node executions in the engine's real order, via node hooks."""
import torch

from .functorch import active as active_transform
from .causes import explain
from .errors import error_of
from .ops import tensors_in
from .programs import program_line

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


def _accumulator(t):
    """The AccumulateGrad node of a leaf that requires grad: the whole graph of `leaf.backward()`."""
    try:
        with torch.enable_grad():
            fn = t.view_as(t).grad_fn  # a throwaway view: its only input edge is the leaf's accumulator
        return fn.next_functions[0][0] if fn is not None else None
    except (RuntimeError, IndexError):
        return None


def _grad_snapper(rec):
    """snap() for the gradients of one pass: a gradient a node produced is what the next node receives (the very
    tensor, same version), so it is copied once; a user tensor hook that just ran may have changed it unseen."""
    snap, seen = rec.reg.values.snap, {}

    def snap_grad(g, fresh: bool = False):
        if g is None or type(g) is not torch.Tensor:
            return snap(g)
        try:
            version = g._version
        except (RuntimeError, AttributeError):
            return snap(g)
        entry = seen.get(id(g))
        if not fresh and entry is not None and entry[0] is g and entry[1] == version:
            return entry[2]
        ref = snap(g)
        seen[id(g)] = (g, version, ref)  # holds g: its id is not reused within the pass
        return ref

    return snap_grad, seen


def _hooks_for(rec, p, fn, open_steps, snap_grad):
    node_rec = rec.reg.nodes[id(fn)]
    nid, limit, steps = node_rec["id"], rec.limits.max_backward_steps, p["steps"]

    def pre(grad_outputs):
        if rec.backward_steps >= limit:
            p["truncated"] = True
            return None
        rec.backward_steps += 1
        hooked = rec.pending_hooks
        step = {"node": nid, "grad_outputs": [snap_grad(g, bool(hooked)) for g in grad_outputs], "grad_inputs": None}
        if hooked:
            step["hooks"], rec.pending_hooks = hooked, []
        steps.append(step)
        open_steps[nid] = step
        return None

    def post(grad_inputs, grad_outputs):
        step = open_steps.pop(nid, None)
        if step is None:
            return None
        step["grad_inputs"] = [snap_grad(g) for g in grad_inputs]
        tid = node_rec["tensor"]
        if tid is not None:
            t = rec.reg.tensor_obj(tid)
            if (t.is_leaf or t.retains_grad) and t.grad is not None:
                step["tensor_grad"] = rec.reg.values.snap(t.grad)
        return None

    return fn.register_prehook(pre), fn.register_hook(post)


def wrap_hook(rec, tensor, fn):
    """A user's tensor hook, reporting what it received and returned to the pass that runs it."""

    def hook(grad):
        result = fn(grad)
        if rec.active_pass is not None:
            snap = rec.reg.values.snap
            rec.pending_hooks.append({
                "tensor": rec.reg.tensor(tensor), "grad_in": snap(grad),
                "grad_out": snap(result) if isinstance(result, torch.Tensor) else None,
            })
        return result

    return hook


def roots_of(func, args, kwargs) -> list:
    """The tensors a backward-like call starts from."""
    try:
        return _parse(func, args, kwargs)[1]
    except (KeyError, TypeError):
        return []


def run_pass(rec, func, args, kwargs):
    call, roots, grads, retain, create, inputs = _parse(func, args, kwargs)
    line = program_line()
    if rec.loops is not None:
        rec.loops.on_backward(roots, line)
    root_ids = [rec.reg.tensor(t, line) for t in roots]
    for t in roots:
        rec.reg.node(t.grad_fn, None, t)
    p = {"call": call, "line": line, "root": root_ids[0] if root_ids else None,
         "gradient": rec.reg.values.snap(grads[0]) if grads else None,
         "retain_graph": retain, "create_graph": create, "steps": [], "error": None,
         "after_forward": len(rec.steps)}
    if inputs:
        p["inputs"] = [rec.reg.tensor(t) for t in inputs]
    transform = active_transform()
    if transform is not None:  # torch.func.grad's own autograd.grad call: it fills no .grad
        p["transform"] = transform
    leaves = [a for a in (_accumulator(t) for t in roots if t.grad_fn is None and t.requires_grad) if a is not None]
    fns = [fn for fn in _reachable(roots) + leaves if rec.reg.node(fn) is not None]  # past the node limit: not hooked
    open_steps: dict = {}
    snap_grad, seen = _grad_snapper(rec)
    handles = [h for fn in fns for h in _hooks_for(rec, p, fn, open_steps, snap_grad)]
    rec.passes.append(p)
    if rec.iteration is not None:
        rec.loops.on_pass(len(rec.passes) - 1)
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
        seen.clear()
        _after_pass(rec, p)
    if call == "grad":
        p["results"] = [rec.reg.tensor(t, line) for t in tensors_in(out)]
    if create:  # the pass recorded a graph of its own (for a second derivative): its nodes come from this line
        first_new = len(rec.reg.node_list)
        made = tensors_in(out) if call == "grad" else [
            rec.reg.tensor_obj(tid).grad for tid in p["grads_after"]]
        for g in made:
            if g is not None and g.grad_fn is not None:
                rec.reg.node(g.grad_fn, line, g)
        for r in rec.reg.node_list[first_new:]:
            if r["line"] is None and r["kind"] == "op":
                r["line"] = line
    return out


def _after_pass(rec, p):
    """Every `.grad` as it stands after the pass: the page shows accumulation from these."""
    grads = {}
    for r in list(rec.reg.tensor_list):
        t = r["obj"]
        if (t.is_leaf or t.retains_grad) and t.grad is not None:
            grads[r["id"]] = rec.reg.values.snap(t.grad)
            rec.reg.note_grad(t, t.grad)
    p["grads_after"] = grads
    if rec.loops is not None and rec.loops.active is not None:
        rec.loops.on_params([rec.reg.tensor_obj(tid) for tid in grads])
