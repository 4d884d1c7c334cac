"""A recording that can be taken back: the iterations of a loop whose end is not known in advance (a `while`, a
`for` over a generator) are recorded one at a time, and each one is dropped when the next begins, so the trace
ends with the loop's last iteration while its size stays that of one iteration."""
import warnings

# Registry, value-table and recorder containers a recorded step adds to: copied at a checkpoint, put back on rollback.
_REG_DICTS = ("tensors", "nodes", "by_storage", "grad_owner", "pending_names")
_REC_DICTS = ("versions", "alias_of", "pending_sources", "shown")


class Checkpoint:
    """What the recording was when an iteration began."""

    def __init__(self, rec, loops):
        reg = rec.reg
        self.steps, self.passes = len(rec.steps), len(rec.passes)
        self.tensors, self.nodes = len(reg.tensor_list), len(reg.node_list)
        self.values = len(reg.values.items)
        self.latest = dict(reg.values.latest)
        self.reg_dicts = {k: dict(getattr(reg, k)) for k in _REG_DICTS if isinstance(getattr(reg, k, None), dict)}
        self.rec_dicts = {k: dict(getattr(rec, k)) for k in _REC_DICTS if isinstance(getattr(rec, k, None), dict)}
        self.storages, self.kept_bytes = set(reg.storages), reg.kept_bytes
        self.backward_steps = rec.backward_steps
        self.done, self.count = len(loops.done), loops.count
        self.warnings = len(_warning_log().items) if _warning_log() is not None else None

    def rollback(self, rec, loops) -> tuple[int, int]:
        """Forget everything recorded since the checkpoint; returns the (forward steps, backward passes) dropped."""
        reg = rec.reg
        dropped = (len(rec.steps) - self.steps, len(rec.passes) - self.passes)
        del rec.steps[self.steps:]
        del rec.passes[self.passes:]
        del reg.tensor_list[self.tensors:]
        del reg.node_list[self.nodes:]
        del reg.values.items[self.values:]
        reg.values.latest = dict(self.latest)
        for k, d in self.reg_dicts.items():
            setattr(reg, k, dict(d))
        for k, d in self.rec_dicts.items():
            setattr(rec, k, dict(d))
        reg.storages, reg.kept_bytes = set(self.storages), self.kept_bytes
        rec.backward_steps = self.backward_steps
        rec.epoch += 1  # the dropped iteration changed values the restored record does not show: read them afresh
        for r in reg.node_list:  # an older node given a tensor the dropped iteration registered
            if r["tensor"] is not None and int(r["tensor"][1:]) > self.tensors:
                r["tensor"] = None
        for loop in loops.stack:
            if loop.current is not None:
                loop.current["backward"] = [p for p in loop.current["backward"] if p < self.passes]
        del loops.done[self.done:]
        loops.count = self.count
        log = _warning_log()
        if log is not None and self.warnings is not None:  # kept, as a folded iteration's are: pointing at nothing dropped
            for w in log.items[self.warnings:]:
                w.update(after_forward=self.steps, after_backward=self.passes, step=None, _op=None)
                if w.get("pass") is not None and w["pass"] >= self.passes:
                    w["pass"] = None
                if w.get("tensor") is not None and int(w["tensor"][1:]) > self.tensors:
                    w["tensor"] = None
        return dropped


def _warning_log():
    """The run's WarningLog (installed as warnings.showwarning by run.py), if any."""
    owner = getattr(warnings.showwarning, "__self__", None)
    return owner if hasattr(owner, "items") and hasattr(owner, "rec") else None
