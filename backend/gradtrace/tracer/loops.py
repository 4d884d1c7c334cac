"""Training loops folded: the first iterations and the last recorded in full, the rest run unrecorded while a
per-iteration series of key scalars (backward roots, `.item()`s, parameter norms) is kept."""
import os
import re
import sys

import torch

from .fastfold import FastFold
from .programs import PROGRAM
from .tentative import Checkpoint
from .values import _num

_ITEM_NAME = re.compile(r"([A-Za-z_][\w.\[\]]*)\s*\.\s*item\s*\(")
_HERE = os.path.dirname(os.path.abspath(__file__))
_MAX_SERIES = 12  # key scalars per loop
_MAX_PARAMS = 8  # parameter norms per loop


def _scalar(t) -> float | str | None:
    try:
        if isinstance(t, torch.Tensor):
            if t.numel() != 1:
                return None
            with torch._C.DisableTorchFunction():  # the tracer's own read: past every mode
                t = t.detach().reshape(()).item()
        if isinstance(t, bool) or not isinstance(t, (int, float)):
            return None
        return _num(float(t))
    except (RuntimeError, TypeError, ValueError):
        return None


class Loop:
    def __init__(self, number: int, line: int, end_line: int, total: int | None, parent: "Loop | None" = None):
        self.number, self.id, self.line, self.end_line, self.total = number, f"L{number}", line, end_line, total
        self.parent, self.parent_index = parent, parent.index if parent is not None else None
        self.index = -1
        self.open = True
        self.recorded: list[dict] = []
        self.current: dict | None = None
        self.tags: dict[int, dict] = {}  # recorded index -> the `iteration` dict its steps share
        self.checkpoint: tuple | None = None  # (first index, Checkpoint) of recorded iterations that may be dropped
        self.series: dict[tuple, dict] = {}
        self.params: dict[int, tuple] = dict(parent.params) if parent is not None else {}  # id -> (tensor, name)
        self.omitted = {"forward_steps": 0, "backward_passes": 0}
        self.norm_rows: list[tuple] = []  # (iteration, series keys, tensor of norms) until the loop is reported
        self.fold_mark: int | None = None  # omitted forward steps when the first folded iteration began
        self.fold_steps: int | None = None  # forward steps of that iteration, counted: later ones run unobserved

    @property
    def folded(self) -> bool:
        return self.index + 1 > len(self.recorded)

    def as_json(self) -> dict:
        out = {"id": self.id, "line": self.line, "end_line": self.end_line, "iterations": self.index + 1,
               "recorded": self.recorded, "series": list(self.series.values()), "omitted": dict(self.omitted)}
        if self.parent is not None:
            out["parent"], out["parent_index"] = self.parent.id, self.parent_index
        return out


class Loops:
    """The loop tracker of one run: called by the instrumented program (see naming.py) and by the recorder.

    A loop is tracked when it starts at the top level or inside a recorded iteration of a tracked loop (then it is
    nested: it folds on its own and is reported with its parent when it did fold, else its steps stay plain steps
    of the parent's iteration). Inside a folded iteration a loop just runs."""

    def __init__(self, rec, code: str):
        self.rec = rec
        self.lines = code.splitlines()
        self.done: list[Loop] = []
        self.stack: list[Loop] = []
        self.active: Loop | None = None
        self.count = 0
        self.lengths: dict[int, int] = {}  # loop line -> iterations of its last run
        self.fast = FastFold(rec)
        self.head, self.full_max = rec.limits.loop_head_iterations, rec.limits.loop_full_iterations

    def _may_begin(self) -> bool:
        if self.rec.quiet:
            return False
        a = self.active
        return a is None or (a.current is not None and self.rec.skip_reason is None)

    # --- called by the instrumented program ---
    def wrap(self, iterable, line: int, end_line: int):
        """`for x in iterable`: tracked, or (nested in a folded iteration, or unrecorded code) passed straight through."""
        if not self._may_begin():
            return iterable
        try:
            total = len(iterable) if isinstance(iterable, (range, list, tuple, dict, torch.Tensor)) or \
                hasattr(type(iterable), "__len__") else None
        except Exception:  # noqa: BLE001 - a user __len__ that fails: length unknown
            total = None
        return self._iterate(iter(iterable), line, end_line, total)

    def _iterate(self, it, line, end_line, total):
        loop = self._begin(line, end_line, total)
        try:
            for item in it:
                self._next(loop)
                yield item
        finally:
            self.end(loop)

    def while_iteration(self, line: int, end_line: int) -> None:
        loop = self.active
        if loop is None or loop.line != line:
            loop = next((x for x in reversed(self.stack) if x.line == line), None)
            if loop is None:
                if not self._may_begin():
                    return
                loop = self._begin(line, end_line, None)
        self._next(loop)

    def while_end(self, line: int) -> None:
        loop = next((x for x in reversed(self.stack) if x.line == line), None)
        if loop is not None:
            self.end(loop)

    # --- iteration bookkeeping ---
    def _begin(self, line, end_line, total) -> Loop:
        self.count += 1
        loop = Loop(self.count, line, end_line, total, self.active)
        self.stack.append(loop)
        self.active = loop
        return loop

    def _mode(self, loop: Loop, i: int) -> str:
        """"full", "tentative" (kept only if it turns out to be the last) or "skip" for iteration i."""
        if loop.total is not None:
            if loop.total <= self.full_max or i < self.head or i == loop.total - 1:
                return "full"
            return "skip"
        if i < self.head:
            return "full"
        guess = self.lengths.get(loop.line)  # a minibatch loop runs as long in every epoch: skip to its last iteration
        return "skip" if guess is not None and guess > self.full_max and i < guess - 1 else "tentative"

    def _close_iteration(self, loop: Loop) -> None:
        if loop.current is not None:
            loop.current["forward"][1] = len(self.rec.steps)
            loop.current = None
        elif self.fast.paused and loop.fold_steps is not None:
            loop.omitted["forward_steps"] += loop.fold_steps  # as many as the folded iteration that was counted
        elif loop.fold_mark is not None:
            loop.fold_steps, loop.fold_mark = loop.omitted["forward_steps"] - loop.fold_mark, None
        self._norms(loop)
        parent = loop.parent
        self.rec.iteration = parent.tags.get(parent.index) if parent is not None and parent.current is not None else None
        if self.rec.skip_reason == "loop":
            self.rec.skip_reason = None
            self.rec.epoch += 1  # values may have changed in the folded iteration without a version bump

    def _unwind(self, loop: Loop) -> None:
        """Loops begun inside `loop`'s iteration and still open (a generator's, left suspended) end now."""
        while self.active is not None and self.active is not loop:
            self.end(self.active)

    def _next(self, loop: Loop) -> None:
        if not loop.open:
            return
        self._unwind(loop)
        if loop.index >= 0:
            self._close_iteration(loop)
        loop.index += 1
        i = loop.index
        for s in loop.series.values():
            s["values"].append(None)
        rec = self.rec
        if rec.skip_reason == "limit":
            return
        mode = self._mode(loop, i)
        if mode == "skip":
            rec.skip_reason = "loop"
            if loop.fold_steps is None:
                loop.fold_mark = loop.omitted["forward_steps"]  # the first folded iteration runs observed, counted
            else:
                self.fast.pause()
            return
        self.fast.resume()
        if mode == "tentative":
            if loop.checkpoint is not None and i >= self.full_max:
                self._drop_tentative(loop)
            if loop.checkpoint is None:
                loop.checkpoint = (i, Checkpoint(rec, self))
        loop.current = {"index": i, "forward": [len(rec.steps), len(rec.steps)], "backward": []}
        loop.tags[i] = rec.iteration = {"loop": loop.id, "index": i}
        start = self._param_values(loop)
        if start:
            loop.current["params"] = start
        loop.current["forward"] = [len(rec.steps), len(rec.steps)]
        loop.recorded.append(loop.current)

    def _drop_tentative(self, loop: Loop) -> None:
        """The iterations recorded since the checkpoint were not the last: forget them, count them as folded."""
        first, cp = loop.checkpoint
        loop.checkpoint = None
        steps, passes = cp.rollback(self.rec, self)
        loop.omitted["forward_steps"] += steps
        loop.omitted["backward_passes"] += passes
        loop.recorded = [r for r in loop.recorded if r["index"] < first]
        for k in [k for k in loop.tags if k >= first]:
            del loop.tags[k]

    def _param_values(self, loop: Loop) -> dict:
        """The loop's parameters as this iteration begins (exact, where a folded stretch hides how they got there)."""
        if not loop.params:
            return {}
        reg = self.rec.reg
        with self.rec.muted(), torch.no_grad():
            # fresh: a `.data` write in the folded stretch changed p without a version bump
            return {reg.tensor(p): reg.values.snap(p, fresh=True) for p, _ in loop.params.values()}

    def on_pass(self, index: int) -> None:
        """Backward pass `index` ran inside the open recorded iterations (nested ones and their parents)."""
        for loop in self.stack:
            if loop.current is not None:
                loop.current["backward"].append(index)

    def end(self, loop: Loop) -> None:
        if not loop.open:
            return
        self._unwind(loop)
        if loop.index >= 0:
            self._close_iteration(loop)
        self.fast.resume()
        loop.open, loop.checkpoint = False, None  # the last iteration's recording is kept
        self.lengths[loop.line] = loop.index + 1
        self.stack.pop()
        self.active = self.stack[-1] if self.stack else None
        if loop.parent is None or loop.folded:
            self.done.append(loop)
        else:
            self._dissolve(loop)

    def _dissolve(self, loop: Loop) -> None:
        """A nested loop that recorded every iteration: its steps are plain steps of the parent's iteration."""
        parent_tag = loop.parent.tags.get(loop.parent_index)
        for r in loop.recorded:
            for s in self.rec.steps[r["forward"][0]:r["forward"][1]]:
                if s.get("iteration") is loop.tags.get(r["index"]):
                    s["iteration"] = parent_tag
        for d in self.done:
            if d.parent is loop:
                d.parent, d.parent_index = loop.parent, loop.parent_index

    def finish(self) -> list[dict]:
        """Loops as Trace.loops (an exception may have left some open), numbered in the order they began."""
        while self.active is not None:
            self.end(self.active)
        self.fast.resume()
        kept = sorted((x for x in self.done if x.index >= 1), key=lambda x: x.number)  # a body that ran once did not repeat
        for k, loop in enumerate(kept, 1):
            self._fill_norms(loop)
            loop.id = f"L{k}"
            for tag in loop.tags.values():
                tag["loop"] = loop.id
        return [loop.as_json() for loop in kept]

    # --- observations ---
    def _value(self, loop: Loop, key: tuple, name: str, line: int | None, value) -> None:
        s = loop.series.get(key)
        if s is None:
            if len(loop.series) >= _MAX_SERIES:
                return
            s = loop.series[key] = {"name": name, "line": line, "values": [None] * (loop.index + 1)}
        s["values"][loop.index] = value

    def on_backward(self, roots, line: int | None) -> None:
        loop = self.active
        if loop is None or loop.index < 0 or not roots:
            return
        value = _scalar(roots[0])
        if value is None:
            return
        rec = self.rec.reg.known(roots[0])
        name = (rec or {}).get("name") or self._name_at(line, r"([A-Za-z_]\w*)\s*\.\s*backward") or "loss"
        self._value(loop, ("backward", line), name, line, value)

    def on_item(self, value) -> None:
        loop = self.active
        if loop is None or loop.index < 0:
            return
        f = sys._getframe(1)
        while f is not None and f.f_code.co_filename.startswith(_HERE):  # the tracer's own frames
            f = f.f_back
        if f is None or f.f_code.co_filename != PROGRAM:  # called by library code, not the program itself
            return
        from .programs import frame_line  # (local: keeps this edit apart from the loop tracker's imports)
        line = frame_line(f)
        if not (loop.line <= line <= loop.end_line):
            return
        v = _scalar(value)
        if v is not None:
            self._value(loop, ("item", line), self._name_at(line, _ITEM_NAME.pattern) or f"line {line}", line, v)

    def on_params(self, params) -> None:
        """Parameters (optimizer-stepped, or given a `.grad`) of every open loop: their norms, their starting values."""
        for loop in self.stack:
            for p in params:
                if len(loop.params) >= _MAX_PARAMS:
                    break
                if id(p) not in loop.params:
                    r = self.rec.reg.known(p)
                    loop.params[id(p)] = (p, (r or {}).get("name") or f"p{len(loop.params) + 1}")

    def _norms(self, loop: Loop) -> None:
        """‖p‖ of the loop's parameters after this iteration: kept as a tensor, turned into numbers once at the end."""
        if not loop.params:
            return
        entries = list(loop.params.items())
        try:
            # one call per iteration, not one per parameter; past every mode (a program's default-device one too)
            with self.rec.muted(), torch.no_grad(), torch._C.DisableTorchFunction():
                row = torch.stack(torch._foreach_norm([p for _, (p, _) in entries]))
        except (RuntimeError, TypeError):  # mixed devices or dtypes: no norms rather than a failed trace
            return
        keys = tuple(("norm", key) for key, _ in entries)
        for key, (_, (_, name)) in zip(keys, entries):
            if key not in loop.series:  # the series exists (in order) from now; its numbers come at the end
                self._value(loop, key, f"‖{name}‖", None, None)
        loop.norm_rows.append((loop.index, keys, row))

    @staticmethod
    def _fill_norms(loop: Loop) -> None:
        """The norms of every iteration as numbers: one stack and one tolist per set of parameters."""
        groups: dict[tuple, list] = {}
        for index, keys, row in loop.norm_rows:
            groups.setdefault(keys, []).append((index, row))
        loop.norm_rows = []
        for keys, rows in groups.items():
            with torch._C.DisableTorchFunction():
                table = torch.stack([r for _, r in rows]).tolist()
            for (index, _), values in zip(rows, table):
                for key, v in zip(keys, values):
                    s = loop.series.get(key)
                    if s is not None:
                        s["values"][index] = _num(v)

    def _name_at(self, line: int | None, pattern: str) -> str | None:
        if line is None or not (0 < line <= len(self.lines)):
            return None
        m = re.search(pattern, self.lines[line - 1])
        return m.group(1) if m else None
