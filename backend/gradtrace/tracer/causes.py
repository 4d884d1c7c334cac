"""Why a backward call failed, in terms the page can draw: the node, the saved tensor, the step and line to blame."""
import ast
import re

import torch

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


# --- errors of the program itself (not of a backward call): explained on the tensors its failing line used ---
_LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation"
_SHAPE = re.compile(r"size mismatch|shapes cannot be multiplied|must match the size of tensor|Expected size|"
                    r"inconsistent tensor size|doesn't match the broadcast shape|cannot be broadcast|mat1 and mat2|"
                    r"Expected .* to have the same|dimension specified as .* but tensor has no dimensions|"
                    r"size of tensor a \(\d+\) must match", re.I)
_MATMUL = re.compile(r"size mismatch|shapes cannot be multiplied|mat1 and mat2|expected m1 and m2|Expected size for first two dimensions", re.I)
_MAX_OPERANDS = 4
_TENSOR_VIEWS = {"T", "mT", "H", "mH", "data", "grad"}  # a tensor's own attributes: torch's, no program code runs


def _operands(rec, line_text: str, namespace: dict) -> list[tuple[str, str, object]]:
    """(text, tensor id, tensor) for each name or attribute chain on the line that holds a recorded tensor, in order."""
    try:
        tree = ast.parse(line_text.strip().rstrip(":"), mode="exec")
    except SyntaxError:
        return []
    found, seen, inner = [], set(), set()
    for node in ast.walk(tree):  # outer nodes first: `x.T` is one operand, not `x`
        if id(node) in inner or not isinstance(node, (ast.Name, ast.Attribute)):
            continue
        text = ast.unparse(node)
        if text in seen:
            continue
        seen.add(text)
        obj = _resolve(node, namespace)
        if isinstance(obj, torch.Tensor):  # a tensor no recorded step used has no id: named, not marked
            inner.update(id(n) for n in ast.walk(node) if n is not node)
            found.append((text, rec.reg.tensor(obj) if rec.reg.known(obj) is not None else None, obj))
    found.sort(key=lambda x: line_text.find(x[0]))
    return found[:_MAX_OPERANDS]


def _resolve(node, namespace):
    """A name or a.b.c looked up in the program's namespace (plain lookups only: no call runs)."""
    if isinstance(node, ast.Name):
        return namespace.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, namespace)
        if base is None:
            return None
        if isinstance(base, torch.nn.Module):  # parameters and submodules live in the module's own dicts
            for d in ("_parameters", "_buffers", "_modules"):
                v = base.__dict__.get(d, {}).get(node.attr)
                if v is not None:
                    return v
        if isinstance(base, torch.Tensor):
            return getattr(base, node.attr) if node.attr in _TENSOR_VIEWS else None
        return base.__dict__.get(node.attr) if hasattr(base, "__dict__") else None
    return None


def _failing_pair(ops, op, message):
    """Two neighbouring operands whose shapes clash under `op` (checked with torch on shapes alone) and are the sizes
    torch's message names, or None: the explanation must be about the tensors that really failed."""
    for a, b in zip(ops, ops[1:]):
        try:
            if op == "matmul":
                torch.matmul(torch.empty(a[2].shape, device="meta"), torch.empty(b[2].shape, device="meta"))
            else:
                torch.broadcast_shapes(a[2].shape, b[2].shape)
        except RuntimeError:
            if _named_in(message, op, a[2].shape, b[2].shape):
                return [a, b]
    return None


def _named_in(message: str, op: str, sa, sb) -> bool:
    if op == "matmul":  # "(2x4 and 5x3)", "mat (3x2), vec (3)": each operand's shape is spelled in the message
        def spelled(s) -> bool:
            dims = "x".join(map(str, s))
            return "(" + dims + ")" in message or dims + " " in message or " " + dims + ")" in message
        return spelled(sa) and spelled(sb)
    m = re.search(r"size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\) at non-singleton dimension (\d+)", message)
    if not m:
        return False
    x, y, d = map(int, m.groups())
    n = max(len(sa), len(sb))
    def at(s) -> int:  # dim d counted from the right-aligned broadcast shape; a missing dim is 1
        i = d - (n - len(s))
        return s[i] if 0 <= i < len(s) else 1
    return (at(sa), at(sb)) == (x, y)


def explain_program(rec, error: dict, namespace: dict, code: str) -> dict | None:
    """Error.cause for the program's own error (a shape mismatch, an in-place change of a leaf), or None."""
    try:
        message, line = error.get("message") or "", error.get("line")
        if error.get("kind") != "runtime" or not line:
            return None
        lines = code.split("\n")
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        ops = _operands(rec, text, namespace)
        if _LEAF_INPLACE in message:
            leaves = [(t, tid) for t, tid, obj in ops if obj.is_leaf and obj.requires_grad]
            if not leaves:
                return None
            return _cause("leaf_inplace", tensor=leaves[0][1], line=line, names=[leaves[0][0]])
        if _SHAPE.search(message) and len(ops) >= 2:
            op = "matmul" if _MATMUL.search(message) else "broadcast"
            pair = _failing_pair(ops, op, message)
            if pair is None:  # the names on the line are not what clashed (e.g. f(a) @ g(b)): say nothing wrong
                return None
            tensors = [tid for _, tid, _ in pair]
            return _cause("shape", tensor=next((t for t in tensors if t), None), tensors=tensors, line=line, op=op,
                          shapes=[list(obj.shape) for _, _, obj in pair], names=[t for t, _, _ in pair])
    except Exception:  # an explanation must never break the trace
        return None
    return None
