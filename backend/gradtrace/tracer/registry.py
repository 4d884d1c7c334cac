"""Stable sequential ids for the tensors and autograd nodes a run touches, with their snapshots."""
import torch

from .limits import Limits
from .saved import snapshot_saved, user_hooks_active
from .valuetable import ValueTable

ACCUMULATE = "torch::autograd::AccumulateGrad"
PLAIN_RANK = 5  # a variable name's rank: any module path (rank 0 or 1, module_paths.py) replaces it


def _storage_key(t: torch.Tensor):
    """What identifies a tensor's memory view: `_saved_*` hands out new objects for the same data."""
    try:
        return (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), tuple(t.stride()), t.dtype)
    except (RuntimeError, NotImplementedError):
        return None


class Registry:
    """Tensors ("t1", "t2", …) and nodes ("n1", …) in order of first sight; holds them alive so ids never repeat."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.tensors: dict[int, dict] = {}
        self.tensor_list: list[dict] = []
        self.nodes: dict[int, dict] = {}
        self.node_list: list[dict] = []
        self.by_storage: dict[tuple, str] = {}
        self.grad_owner: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self.pending_names: dict[int, tuple[object, str]] = {}
        self.storages: set[int] = set()
        self.kept_bytes = 0
        self.values = ValueTable(limits.max_tensor_elements)
        self.on_new_tensor = None
        self.on_limit = None  # set by the recorder: a trace limit was reached (recording degrades, the program runs on)
        self.omitted_nodes = 0  # set by the tracer: emits a deferred step (e.g. `.data`) before first use

    # --- tensors ---
    def tensor(self, t: torch.Tensor, line: int | None = None) -> str:
        rec = self.tensors.get(id(t))
        if rec is not None:
            return rec["id"]
        if self.on_new_tensor is not None:
            self.on_new_tensor(t)
            rec = self.tensors.get(id(t))
            if rec is not None:
                return rec["id"]
        try:
            storage = t.untyped_storage()
            ptr, nbytes = storage.data_ptr(), storage.nbytes()
        except (RuntimeError, NotImplementedError):
            storage = None
        if storage is not None:
            self._count_bytes(ptr, nbytes)
        rec = {"id": f"t{len(self.tensor_list) + 1}", "obj": t, "name": None, "grad_of": None, "line": line}
        self.tensors[id(t)] = rec
        self.tensor_list.append(rec)
        if self.grad_owner:
            owner = self.grad_owner.get(id(t))
            if owner is not None:
                self._mark_grad(rec, owner[0])
        if self.pending_names:
            pending = self.pending_names.pop(id(t), None)
            if pending is not None:
                rec["name"] = pending[1]
                if len(pending) > 2:  # a module path (module_paths.py): (t, path, rank, tied paths)
                    rec["rank"], rec["tied"] = pending[2], pending[3]
        if storage is not None:
            try:
                self.by_storage.setdefault((ptr, t.storage_offset(), tuple(t.shape), tuple(t.stride()), t.dtype), rec["id"])
            except (RuntimeError, NotImplementedError):
                pass
        return rec["id"]

    def _count_bytes(self, key: int, size: int) -> None:
        """Every registered tensor stays alive until the trace is built: bound the memory that pins."""
        if key in self.storages:
            return
        self.storages.add(key)
        self.kept_bytes += size
        if self.kept_bytes > self.limits.max_tensor_mb * 2**20 and self.on_limit is not None:
            self.on_limit(f"the program keeps more than {self.limits.max_tensor_mb} MiB of tensors alive "
                          "(gradtrace holds every tensor it shows until the program ends)")

    def tensor_obj(self, tid: str | None):
        """The tensor with trace id `tid` ("t3"), or None."""
        return self.tensor_list[int(tid[1:]) - 1]["obj"] if tid else None

    def fill_lines(self) -> None:
        """Nodes no step created (AsStridedBackward0 made when a view of an in-place-written base is used, a
        library call's inner ViewBackward0) take their tensor's line, else the line of the node that uses them."""
        tensor_lines = {r["id"]: r["line"] for r in self.tensor_list}
        for r in self.node_list:
            if r["line"] is None and r["kind"] != "accumulate" and r["tensor"]:
                r["line"] = tensor_lines.get(r["tensor"])
        node_rec = self.node_rec
        for r in reversed(self.node_list):  # consumers are usually registered before what they use
            stack = [r] if r["line"] is not None else []
            while stack:
                parent = stack.pop()
                for child_id, _ in parent["next"]:
                    child = node_rec(child_id)
                    if child is not None and child["line"] is None and child["kind"] != "accumulate":
                        child["line"] = parent["line"]
                        stack.append(child)

    def node_rec(self, nid: str | None) -> dict | None:
        """The node record with trace id `nid` ("n3"), or None."""
        return self.node_list[int(nid[1:]) - 1] if nid else None

    def known(self, t) -> dict | None:
        return self.tensors.get(id(t))

    def name(self, t: torch.Tensor, name: str) -> None:
        """Give `t` a variable name unless it has one: the first binding names a tensor."""
        rec = self.tensors.get(id(t))
        if rec is None:
            if id(t) not in self.pending_names:
                self.pending_names[id(t)] = (t, name)
        elif rec["name"] is None:
            rec["name"] = name

    def path_name(self, t: torch.Tensor, path: str, rank: int, tied: list[str]) -> None:
        """Name `t` by its module path: beats a variable name and any path of a worse `rank` (module_paths.py)."""
        rec = self.tensors.get(id(t))
        if rec is None:
            pending = self.pending_names.get(id(t))
            if pending is None or len(pending) == 2 or pending[2] > rank:
                self.pending_names[id(t)] = (t, path, rank, tied or None)
        elif rec.get("rank", PLAIN_RANK) > rank:
            rec["name"], rec["rank"], rec["tied"] = path, rank, tied or None
        elif rec.get("rank") == rank and rec["name"] == path:
            rec["tied"] = tied or None

    def refresh_grad_names(self) -> None:
        """`w.grad` named when w had another name takes w's final one."""
        for rec in self.tensor_list:
            if rec.get("grad_named"):
                owner = self.tensor_list[int(rec["grad_of"][1:]) - 1]
                if owner["name"]:
                    rec["name"] = f"{owner['name']}.grad"

    def note_grad(self, owner: torch.Tensor, grad: torch.Tensor) -> None:
        """`grad` is `owner.grad`: name it `owner.grad` when it shows up in the trace."""
        self.grad_owner[id(grad)] = (owner, grad)
        rec = self.tensors.get(id(grad))
        if rec is not None and rec["grad_of"] is None:
            self._mark_grad(rec, owner)

    def _mark_grad(self, rec: dict, owner: torch.Tensor) -> None:
        orec = self.tensors.get(id(owner))
        if orec is None:
            return
        rec["grad_of"] = orec["id"]
        if rec["name"] is None and orec["name"]:
            rec["name"] = f"{orec['name']}.grad"
            rec["grad_named"] = True

    def match_saved(self, t: torch.Tensor) -> str | None:
        rec = self.tensors.get(id(t))  # the very object (a saved leaf often is): not an alias sharing its memory
        if rec is not None:
            return rec["id"]
        key = _storage_key(t)
        return self.by_storage.get(key) if key is not None else None

    # --- nodes ---
    def node(self, fn, line: int | None = None, tensor: torch.Tensor | None = None) -> str | None:
        """Register `fn` and every node upstream of it (iteratively: chains can be thousands long)."""
        if fn is None:
            return None
        rec = self.nodes.get(id(fn))
        if rec is None:
            packing = user_hooks_active()  # one read for the whole walk: no program code runs during it
            rec = self._new_node(fn, line, packing)
            if rec is None:
                return None
            stack = [rec]
            while stack:
                r = stack.pop()
                nxt = []
                for child, idx in r["obj"].next_functions:
                    if child is None:
                        nxt.append([None, idx])
                        continue
                    crec = self.nodes.get(id(child))
                    if crec is None:
                        crec = self._new_node(child, None, packing)
                        if crec is None:  # past the node limit: this edge is not shown
                            nxt.append([None, idx])
                            continue
                        stack.append(crec)
                    nxt.append([crec["id"], idx])
                r["next"] = nxt
        if tensor is not None and rec["tensor"] is None and rec["kind"] != "accumulate":
            rec["tensor"] = self.tensor(tensor)
        if rec["line"] is None and line is not None:
            rec["line"] = line
        return rec["id"]

    def _new_node(self, fn, line, packing: bool | None = None):
        if len(self.node_list) >= self.limits.max_nodes:
            self.omitted_nodes += 1
            if self.on_limit is not None:
                self.on_limit(f"the autograd graph has more than {self.limits.max_nodes} nodes")
            return None
        name = fn.name()
        kind = "op"
        if name == ACCUMULATE:
            kind = "accumulate"
        elif isinstance(fn, torch.autograd.function.BackwardCFunction):
            kind = "custom"
        rec = {"id": f"n{len(self.node_list) + 1}", "obj": fn, "name": name, "kind": kind,
               "tensor": None, "next": [], "saved": [], "line": line}
        self.nodes[id(fn)] = rec
        self.node_list.append(rec)
        if kind == "accumulate":
            rec["tensor"] = self.tensor(fn.variable)
        rec["saved"] = snapshot_saved(fn, kind, self, packing)
        return rec

    def node_id(self, fn) -> str | None:
        rec = self.nodes.get(id(fn)) if fn is not None else None
        return rec["id"] if rec else None
