"""Plain torch's side of a block-level step: per nn.Module call, the gradient that entered it through its outputs and
left it through its inputs, and its output values; and a reader of the page's block-level sentences.

Every module call's inputs and outputs are passed through an identity view (`view_as`) with a tensor hook, in global
module pre/forward hooks: the view of an input is read by that call alone, so its gradient is what that call sent back
to the input (torch's full backward hook gives the same); the view of an output is what the rest of the program read,
so its gradient is what entered the call. Values are unchanged (a view is the identity)."""
import contextlib
import io
import random
import re
from collections import defaultdict

import numpy as np
import torch

_N = r"(?:-?inf|nan|-?\d+(?:\.\d+)?(?:e-?\d+)?)"
# A value as the page prints it: statistics, a (nested) list maybe cut ("…] (80 values)"), or a number.
LITERAL = re.compile(rf"mean {_N}, min {_N}, max {_N}|\[[^\[\]]*(?:\[[^\[\]]*(?:\[[^\[\]]*\][^\[\]]*)*\][^\[\]]*)*\](?: \(\d+ values\))?|{_N}")
NUM = re.compile(_N)
BLOCK = r"block (?P<path>\S+) \((?P<cls>\w+)(?:, call (?P<call>\d+) of \d+)?(?:, folded into \"[^\"]+\")?\)"


def module_calls(code: str, grads: list | None = None) -> dict:
    """{(path, call index): {"grad_out": [tensors], "grad_in": [tensors], "out": [tensors]}} for every module call.
    `grads`, when given, gets one {parameter path: .grad} per backward() call, read right after it."""
    calls, stacks, counts = [], defaultdict(list), defaultdict(int)

    def wrap(x, store):
        if isinstance(x, torch.Tensor) and x.requires_grad:
            v = x.view_as(x)
            slot = len(store)
            store.append(None)
            v.register_hook(lambda g, store=store, slot=slot: store.__setitem__(slot, g.detach().clone()))
            return v
        if isinstance(x, tuple):
            return tuple(wrap(y, store) for y in x)
        return x

    def pre(mod, args):
        rec = {"mod": mod, "idx": counts[id(mod)], "grad_in": [], "grad_out": [], "out": []}
        counts[id(mod)] += 1
        calls.append(rec)
        stacks[id(mod)].append(rec)
        return wrap(tuple(args), rec["grad_in"])

    def post(mod, args, out):
        rec = stacks[id(mod)].pop()
        rec["out"] = [t.detach().clone() for t in _tensors(out)]
        return wrap(out, rec["grad_out"])

    names: dict = {"__name__": "__main__"}
    backward = torch.Tensor.backward

    def snapshot(self, *a, **k):
        out = backward(self, *a, **k)
        if grads is not None:
            grads.append({f"{var}.{p}": t.grad.detach().clone() for var, obj in list(names.items()) if isinstance(obj, torch.nn.Module)
                          for p, t in obj.named_parameters() if t.grad is not None})
        return out

    hooks = [torch.nn.modules.module.register_module_forward_pre_hook(pre),
             torch.nn.modules.module.register_module_forward_hook(post)]
    torch.Tensor.backward = snapshot
    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code, "<plain>", "exec"), names)
    finally:
        torch.Tensor.backward = backward
        for h in hooks:
            h.remove()
    paths: dict = {}
    for var, obj in names.items():
        if isinstance(obj, torch.nn.Module):
            for sub, m in obj.named_modules():
                paths.setdefault(id(m), f"{var}.{sub}" if sub else var)
    return {(paths[id(r["mod"])], r["idx"]): r for r in calls if id(r["mod"]) in paths}


def _tensors(x):
    if isinstance(x, torch.Tensor):
        return [x]
    return [t for y in x for t in _tensors(y)] if isinstance(x, (tuple, list)) else []


def agrees(literal: str, t, rel: float = 2e-3) -> bool:
    """The page's printed value equals tensor t: every number shown (a cut list: its first ones; statistics: mean,
    min and max), to the 4 significant digits the page prints."""
    if t is None:
        return False
    want = t.detach().double().flatten()
    if literal.startswith("mean "):
        got = [float(x) for x in NUM.findall(literal)]
        stats = [want.mean().item(), want.min().item(), want.max().item()]
        scale = want.abs().max().item()
        # statistics are printed to 3 significant digits
        return len(got) == 3 and all(abs(a - b) <= 6e-3 * max(abs(b), 1e-3 * scale, 1e-9) for a, b in zip(got, stats))
    cut = "…" in literal
    m = re.search(r"\((\d+) values\)$", literal)
    if m and int(m.group(1)) != want.numel():
        return False
    got = [float(x) for x in NUM.findall(literal.split("…")[0] if cut else literal)]
    if not got or len(got) > want.numel() or (not cut and len(got) != want.numel()):
        return False
    return all(abs(a - b) <= rel * max(abs(b), 1e-3) + 1e-9 for a, b in zip(got, want.tolist()))


def gradient_values(clause: str) -> list[str]:
    """The value of every `dL/d… = V` in a clause (for a sum `a + b = s`, the sum s)."""
    out, at = [], 0
    while (i := clause.find("dL/d", at)) >= 0:
        j = clause.find(" = ", i)
        if j < 0:
            break
        at = j + 3
        while (m := LITERAL.match(clause, at)) is not None:
            if clause.startswith(" + ", m.end()):  # a term of a sum: the sum follows its last " = "
                at = clause.find(" = ", m.end()) + 3
                continue
            out.append(m.group(0))
            at = m.end()
            break
    return out


def claims(text: str) -> dict:
    """A caption's block-level claims, each (path, call index, [printed values]) or None: "enter" (the gradient entering
    through outputs), "leave" (leaving through inputs), "none_leave" (nothing leaves), "output" (forward: the outputs);
    "stored": (parameter, printed value) of an AccumulateGrad in the block."""
    out: dict = {"enter": None, "leave": None, "none_leave": None, "output": None, "stored": None}
    if m := re.search(r"AccumulateGrad stores (?P<name>\S+)\.grad = ", text):
        v = LITERAL.match(text, m.end())
        out["stored"] = (m["name"], v.group(0) if v else "")
    call = lambda m: int(m["call"] or 1) - 1  # noqa: E731
    if m := re.search(r"The gradient enters " + BLOCK + r" through its outputs? (?P<rest>.*?)\. Inside it", text):
        out["enter"] = (m["path"], call(m), gradient_values(m["rest"]))
    if m := re.search(r"the gradient leaves " + BLOCK + r" through its inputs?: (?P<rest>.*?)\.(?: On the way| It also|$)", text):
        out["leave"] = (m["path"], call(m), gradient_values(m["rest"]))
    if m := re.search(r"No gradient leaves " + BLOCK + r" through its inputs: none of them requires grad", text):
        out["none_leave"] = (m["path"], call(m), [])
    if m := re.search(r"^B" + BLOCK[1:] + r" .*?That is the block's last op: its outputs? (?P<rest>.*?) goe?s? on to the rest", text):
        vals = [LITERAL.match(m["rest"], e.end()) for e in re.finditer(r" = ", m["rest"])]
        out["output"] = (m["path"], call(m), [v.group(0) for v in vals if v])
    return out
