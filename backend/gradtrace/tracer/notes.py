"""Python warnings the program raised, each with the user's line and the step or backward pass that raised it."""
import sys

import torch

PROGRAM = "<program>"
MAX_WARNINGS = 50  # a loop that warns every iteration would otherwise flood the trace
_MODE_FILE = "mode.py"


class WarningLog:
    """Installed as `warnings.showwarning` while the program runs."""

    def __init__(self, rec):
        self.rec, self.items = rec, []

    def show(self, message, category, filename, lineno, file=None, line=None):
        if len(self.items) >= MAX_WARNINGS:
            return
        rec = self.rec
        user_line, op, tensor = lineno if filename == PROGRAM else None, None, None
        f = sys._getframe(1)
        while f is not None:  # the user's line even when torch raised it; the torch call it came from
            code = f.f_code
            if code.co_filename == PROGRAM and user_line is None:
                user_line = f.f_lineno
            if op is None and code.co_name == "__torch_function__" and code.co_filename.endswith(_MODE_FILE):
                loc = f.f_locals
                op = loc.get("name") or "call"
                args = loc.get("args") or ()
                known = rec.reg.known(args[0]) if args and isinstance(args[0], torch.Tensor) else None
                tensor = known["id"] if known else None
            f = f.f_back
        active = rec.active_pass
        self.items.append({
            "message": str(message), "line": user_line, "category": getattr(category, "__name__", "Warning"),
            "step": None, "pass": next((i for i, p in enumerate(rec.passes) if p is active), None) if active is not None else None,
            "after_forward": len(rec.steps), "after_backward": len(rec.passes), "tensor": tensor,
            "_op": op if active is None else None,
        })

    def finish(self) -> list[dict]:
        """A warning raised inside a torch call that became forward step i belongs to that step."""
        steps = self.rec.steps
        for w in self.items:
            op, i = w.pop("_op"), w["after_forward"]
            if op and op != "grad.get" and i < len(steps) and steps[i]["line"] == w["line"]:
                w["step"] = i
        return self.items
