"""Training loops folded: the first iterations and the last recorded in full, the rest run unrecorded while a
per-iteration series of key scalars (backward roots, `.item()`s, parameter norms) is kept."""
import os
import re
import sys

import torch

from .programs import PROGRAM
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
            t = t.detach().reshape(()).item()
        if isinstance(t, bool) or not isinstance(t, (int, float)):
            return None
        return _num(float(t))
    except (RuntimeError, TypeError, ValueError):
        return None


class Loop:
    def __init__(self, number: int, line: int, end_line: int, total: int | None):
        self.id, self.line, self.end_line, self.total = f"L{number}", line, end_line, total
        self.index = -1
        self.recorded: list[dict] = []
        self.current: dict | None = None
        self.series: dict[tuple, dict] = {}
        self.params: dict[int, tuple] = {}  # id -> (tensor, name)
        self.omitted = {"forward_steps": 0, "backward_passes": 0}

    def as_json(self) -> dict:
        return {"id": self.id, "line": self.line, "end_line": self.end_line, "iterations": self.index + 1,
                "recorded": self.recorded, "series": list(self.series.values()), "omitted": dict(self.omitted)}


class Loops:
    """The loop tracker of one run: called by the instrumented program (see naming.py) and by the recorder."""

    def __init__(self, rec, code: str):
        self.rec = rec
        self.lines = code.splitlines()
        self.done: list[Loop] = []
        self.active: Loop | None = None
        self.count = 0
        self.head, self.full_max = rec.limits.loop_head_iterations, rec.limits.loop_full_iterations

    # --- called by the instrumented program ---
    def wrap(self, iterable, line: int, end_line: int):
        """`for x in iterable` of an outermost loop; nested or unrecorded runs pass straight through."""
        if self.active is not None or self.rec.quiet:
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
            if loop is not None or self.rec.quiet:
                return
            loop = self._begin(line, end_line, None)
        self._next(loop)

    def while_end(self, line: int) -> None:
        if self.active is not None and self.active.line == line:
            self.end(self.active)

    # --- iteration bookkeeping ---
    def _begin(self, line, end_line, total) -> Loop:
        self.count += 1
        loop = Loop(self.count, line, end_line, total)
        self.active = loop
        return loop

    def _full(self, loop: Loop, i: int) -> bool:
        if loop.total is not None and loop.total <= self.full_max:
            return True
        if loop.total is None:
            return i < self.full_max
        return i < self.head or i == loop.total - 1

    def _close_iteration(self, loop: Loop) -> None:
        if loop.current is not None:
            loop.current["forward"][1] = len(self.rec.steps)
            loop.current = None
        self._norms(loop)
        self.rec.iteration = None
        if self.rec.skip_reason == "loop":
            self.rec.skip_reason = None

    def _next(self, loop: Loop) -> None:
        if loop.index >= 0:
            self._close_iteration(loop)
        loop.index += 1
        i = loop.index
        for s in loop.series.values():
            s["values"].append(None)
        if self._full(loop, i) or self.rec.skip_reason == "limit":
            if self.rec.skip_reason is None:
                loop.current = {"index": i, "forward": [len(self.rec.steps), len(self.rec.steps)], "backward": []}
                loop.recorded.append(loop.current)
                self.rec.iteration = {"loop": loop.id, "index": i}
        else:
            self.rec.skip_reason = "loop"

    def end(self, loop: Loop) -> None:
        if self.active is not loop:
            return
        if loop.index >= 0:
            self._close_iteration(loop)
        self.active = None
        if loop.index >= 0:
            self.done.append(loop)

    def finish(self) -> list[dict]:
        """Loops as Trace.loops (an exception may have left one open)."""
        if self.active is not None:
            self.end(self.active)
        return [loop.as_json() for loop in self.done if loop.index >= 1]  # a body that ran once did not repeat

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
        loop = self.active
        if loop is None:
            return
        for p in params:
            if len(loop.params) >= _MAX_PARAMS:
                return
            if id(p) not in loop.params:
                r = self.rec.reg.known(p)
                loop.params[id(p)] = (p, (r or {}).get("name") or f"p{len(loop.params) + 1}")

    def _norms(self, loop: Loop) -> None:
        if not loop.params:
            return
        entries = list(loop.params.items())
        try:
            with self.rec.muted(), torch.no_grad():  # one call per iteration, not one per parameter
                norms = torch.stack(torch._foreach_norm([p for _, (p, _) in entries])).tolist()
        except (RuntimeError, TypeError):  # mixed devices or dtypes: no norms rather than a failed trace
            return
        for (key, (_, name)), v in zip(entries, norms):
            self._value(loop, ("norm", key), f"‖{name}‖", None, _num(v))

    def _name_at(self, line: int | None, pattern: str) -> str | None:
        if line is None or not (0 < line <= len(self.lines)):
            return None
        m = re.search(pattern, self.lines[line - 1])
        return m.group(1) if m else None
