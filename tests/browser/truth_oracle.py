"""What the page must show at step k, computed from the trace JSON alone (independently of the page's JS).

Follows the trace's documented meaning: forward steps' `values`, `grad_changes`, BackwardStep `tensor_grad`,
BackwardPass `grads_after` and `after_forward`, and the gradient each node sent along `next` (dL/dt so far).
"""
import math


def entries(trace: dict) -> list[tuple]:
    """The step sequence: ("f", i) | ("b", pass, j) | ("e", pass); pass p runs after forward[after_forward - 1]."""
    fwd, passes = trace["forward"], trace["backward"]
    out, p = [], 0

    def push(p):
        out.extend(("b", p, j) for j in range(len(passes[p]["steps"])))
        if passes[p].get("error"):
            out.append(("e", p))

    pos = []
    prev = -1
    for bp in passes:
        a = bp.get("after_forward")
        cur = max(prev, min(len(fwd) - 1, a - 1)) if isinstance(a, int) else len(fwd) - 1
        pos.append(cur)
        prev = cur
    while p < len(passes) and pos[p] < 0:
        push(p)
        p += 1
    for i in range(len(fwd)):
        out.append(("f", i))
        while p < len(passes) and pos[p] <= i:
            push(p)
            p += 1
    while p < len(passes):
        push(p)
        p += 1
    return out


def flat(v):
    if v is None or v.get("values") is None:
        return None
    out = []

    def walk(x):
        if isinstance(x, list):
            for y in x:
                walk(y)
        else:
            out.append(float(x) if not isinstance(x, str) else float(x.replace("inf", "inf")))

    walk(v["values"])
    return out


def _add(a, b):
    if a is None:
        return b
    fa, fb = flat(a), flat(b)
    if fa is None or fb is None or len(fa) != len(fb):
        return b if fa is None else a
    return {"shape": b["shape"], "values": [x + y for x, y in zip(fa, fb)]}


class Oracle:
    def __init__(self, trace: dict):
        self.trace, self.seq = trace, entries(trace)
        self.tensors = {t["id"]: t for t in trace["tensors"]}
        self.nodes = {n["id"]: n for n in trace["nodes"]}
        self.node_step = {}
        for i, s in enumerate(trace["forward"]):
            if s.get("node") is not None:
                self.node_step.setdefault(s["node"], i)

    @property
    def total(self) -> int:
        return len(self.seq)

    def target(self, node_id, nr):
        """The tensor a gradient sent to (node, output nr) is dL/d of: a leaf's AccumulateGrad, or the
        output nr of the op whose grad_fn the node still is (an in-place change gives a tensor a new one)."""
        n = self.nodes.get(node_id)
        if n is None:
            return None
        if n.get("kind") == "accumulate" or "AccumulateGrad" in n["name"]:
            return n.get("tensor")
        i = self.node_step.get(node_id)
        outs = self.trace["forward"][i]["outputs"] if i is not None else []
        cand = outs[nr] if nr < len(outs) else (n.get("tensor") if nr == 0 else None)
        return cand if cand is not None and self.tensors.get(cand, {}).get("grad_fn") == node_id else None

    def state(self, k: int) -> dict:
        """{tid: {"data": Values|None, "grad": Values|None, "flow": Values|None}} after the first k steps."""
        tr = self.trace
        data = {}
        grad = {}
        flow, cur_pass = {}, None
        for e in self.seq[:k]:
            if e[0] == "f":
                s = tr["forward"][e[1]]
                data.update(s.get("data_changes") or {})  # an input's value where the trace did not show it yet
                for j, o in enumerate(s.get("outputs") or []):
                    if s.get("values") and j < len(s["values"]) and s["values"][j] is not None:
                        data[o] = s["values"][j]
                        owner = self.tensors.get(o, {}).get("grad_of")
                        if owner:
                            grad[owner] = s["values"][j]
                for t, v in (s.get("grad_changes") or {}).items():
                    grad[t] = v
                flow, cur_pass = {}, None
                continue
            p = tr["backward"][e[1]]
            if cur_pass != e[1]:
                flow, cur_pass = {}, e[1]
                root = p.get("root")
                if root is not None:
                    rt = self.tensors[root]
                    n = 1
                    for d in rt["shape"]:
                        n *= d
                    seed = p.get("gradient") or {"shape": rt["shape"], "values": [1.0] * n}
                    flow[root] = seed
            if e[0] == "e":  # a failed call: no gradient is flowing any more
                grad.update(p.get("grads_after") or {})
                flow = {}
                continue
            st = p["steps"][e[2]]
            for h in st.get("hooks") or []:
                if h.get("grad_out") is not None:
                    flow[h["tensor"]] = h["grad_out"]
            node = self.nodes.get(st["node"], {})
            tid = node.get("tensor")
            if tid and st.get("tensor_grad") is not None:
                grad[tid] = st["tensor_grad"]
            for slot, nxt in enumerate(node.get("next") or []):
                m, nr = nxt
                g = (st.get("grad_inputs") or [None] * 99)[slot] if slot < len(st.get("grad_inputs") or []) else None
                if m is None or g is None:
                    continue
                t = self.target(m, nr)
                if t is not None:
                    flow[t] = _add(flow.get(t), g)
            if e[2] == len(p["steps"]) - 1:
                grad.update(p.get("grads_after") or {})
        out = {}
        for tid, t in self.tensors.items():
            if k >= self.total:
                out[tid] = {"data": t["data"], "grad": t["grad"], "flow": flow.get(tid)}
            else:
                out[tid] = {"data": data.get(tid, self.first_data().get(tid, t["data"])), "grad": grad.get(tid), "flow": flow.get(tid)}
        return out

    def first_data(self) -> dict:
        """tid -> the first value the trace gives it (what a tensor shows before its first write: never a later one)."""
        if getattr(self, "_first", None) is None:
            first = {}
            for e in self.seq:
                if e[0] != "f":
                    continue
                s = self.trace["forward"][e[1]]
                for t, v in (s.get("data_changes") or {}).items():
                    first.setdefault(t, v)
                for j, o in enumerate(s.get("outputs") or []):
                    if s.get("values") and j < len(s["values"]) and s["values"][j] is not None:
                        first.setdefault(o, s["values"][j])
            self._first = first
        return self._first


def close(a: list, b: list, rel: float = 1e-6) -> bool:
    if a is None or b is None:
        return a is b
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if math.isnan(x) and math.isnan(y):
            continue
        if x != y and abs(x - y) > rel * max(1.0, abs(x), abs(y)):
            return False
    return True
