"""Why a backward call failed, in terms the page can draw: the node, the saved tensor, the step and line to blame."""
import re

from .valuetable import _version

_INPLACE = re.compile(r"modified by an inplace operation.*?which is output (\d+) of (\w+), is at version (\d+); expected version (\d+)", re.S)
_FREED = "backward through the graph a second time"
_NO_GRAD_FN = re.compile(r"element (\d+) of tensors does not require grad and does not have a grad_fn")


def _cause(kind, **fields) -> dict:
    out = {"kind": kind, "node": None, "saved": None, "saved_version": None, "current_version": None,
           "tensor": None, "step": None, "line": None}
    out.update(fields)
    return out


def _failing_node(p) -> str | None:
    """The node whose pre-hook ran but which never finished: the one that raised."""
    for step in reversed(p["steps"]):
        if step.get("grad_inputs") is None:
            return step["node"]
    return None


def _node_rec(rec, nid):
    return rec.reg.node_rec(nid)


def _tensor_obj(rec, tid):
    return rec.reg.tensor_obj(tid)


def _bumped_by(rec, tid, after: int = 0):
    """The last forward step (index) that raised tensor `tid`'s version, or None."""
    for i in range(len(rec.steps) - 1, after - 1, -1):
        if tid in (rec.steps[i].get("bumps") or ()):
            return i
    return None


def _inplace(rec, p, m) -> dict:
    nr, name, now, expected = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
    nid = _failing_node(p)
    node = _node_rec(rec, nid)
    if node is None or node["name"] != name:  # the message names the node that produced the tensor, not always the one that raised
        node = next((r for r in reversed(rec.reg.node_list) if r["name"] == name), node)
    saved = None
    for s in (node or {}).get("saved", []):
        t = _tensor_obj(rec, s.get("tensor"))
        if s.get("version") == expected and t is not None and _version(t) == now:
            saved = s
            break
    tid = saved["tensor"] if saved else (node or {}).get("tensor")
    step = _bumped_by(rec, tid) if tid else None
    return _cause("inplace", node=nid or (node or {}).get("id"), saved=saved["name"] if saved else None,
                  saved_version=expected, current_version=now, tensor=tid, step=step,
                  line=rec.steps[step]["line"] if step is not None else None, output=nr)


def _freed(rec, p) -> dict:
    nid = _failing_node(p)
    node = _node_rec(rec, nid)
    # the earlier pass that ran this node without retain_graph freed what it saved
    freer = None
    for q in rec.passes:
        if q is p:
            break
        if not q.get("retain_graph") and any(s["node"] == nid for s in q["steps"]):
            freer = q
    saved = next((s for s in (node or {}).get("saved", []) if s.get("tensor") or s.get("version") is not None), None)
    return _cause("freed", node=nid, saved=saved["name"] if saved else None, tensor=saved.get("tensor") if saved else None,
                  line=freer["line"] if freer else None, freed_by=rec.passes.index(freer) if freer else None)


def _required_then(rec, tid, i: int) -> bool:
    """Did tensor `tid` require grad when step `i` ran? (Made to require grad only later: then nothing was cut.)"""
    t = _tensor_obj(rec, tid)
    if t is None or not t.requires_grad:
        return False
    return not any(s["op"] == "requires_grad_" and tid in s["outputs"] for s in rec.steps[i + 1:])


def _no_grad_fn(rec, p, index: int) -> dict:
    """A root with no grad_fn: find the step that cut it off the graph (detach, no_grad) if there is one."""
    roots = [p["root"]] if p.get("root") else []
    tid = roots[0] if roots else None
    seen, queue, cut = set(), list(roots), None
    while queue and cut is None:
        t = queue.pop(0)
        if t in seen:
            continue
        seen.add(t)
        for i in range(len(rec.steps) - 1, -1, -1):
            s = rec.steps[i]
            if t in s["outputs"] and t not in s["inputs"]:
                inputs = [x for x in s["inputs"] if x not in s["outputs"]]
                if s["node"] is None and any(_required_then(rec, x, i) for x in inputs):
                    cut = i
                queue.extend(inputs)
                break
    return _cause("no_grad_fn", tensor=tid, step=cut, line=rec.steps[cut]["line"] if cut is not None else None,
                  why=("no_grad" if not rec.steps[cut]["grad_enabled"] else "detach") if cut is not None else "no_input")


def explain(rec, p, message: str) -> dict | None:
    """Error.cause for a failed backward call `p` (None when the message is not one we understand)."""
    try:
        m = _INPLACE.search(message)
        if m:
            return _inplace(rec, p, m)
        if _FREED in message:
            return _freed(rec, p)
        m = _NO_GRAD_FN.search(message)
        if m:
            return _no_grad_fn(rec, p, int(m.group(1)))
    except Exception:  # an explanation must never break the trace
        return None
    return None
