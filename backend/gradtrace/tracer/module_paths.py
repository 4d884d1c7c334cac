"""Names from the module tree: every parameter and buffer of a module the program binds to a variable is named by
the path `named_parameters()` gives from that variable (`model.transformer.h.0.attn.c_attn.weight`), Sequential,
ModuleList and ModuleDict keys included; a parameter reached by a second path is "tied" with it.

A tree bound at module level (rank 0) beats one bound to a function's local (rank 1, e.g. a layer built in
`__init__` before it is appended), which beats any plain variable name (e.g. `weight = next(self.parameters())`
inside `init_hidden`). Trees are walked again when their forward starts and when the trace ends, so tying and
layers added after the binding are seen too."""
import sys

import torch

MODULE_LEVEL = ("<module>", "__setitem__")  # a program's top level, or BindingNamespace storing a top-level name


class ModulePaths:
    def __init__(self, reg):
        self.reg = reg
        self.roots: dict[int, tuple[int, str, torch.nn.Module]] = {}  # id(root) -> (rank, variable, module)
        self.modules: dict[int, tuple[int, str]] = {}  # id(module) -> (rank, path) of every module in a tree

    def bound(self, module: torch.nn.Module, name: str, depth: int = 2) -> None:
        """`name = module` ran in the program (called from Recorder.bind: the program's frame is `depth` up)."""
        code = sys._getframe(depth).f_code.co_name
        rank = 0 if code in MODULE_LEVEL else 1
        known = self.modules.get(id(module))
        if known is not None and known[0] <= rank:
            return  # already part of a tree at least as good (`block` in `for block in self.h`)
        self.roots[id(module)] = (rank, name, module)
        self._walk(rank, name, module)

    def path(self, module) -> str | None:
        known = self.modules.get(id(module))
        return known[1] if known is not None else None

    def entered(self, module) -> None:
        """A module's forward starts: a root's tree may have changed since it was bound."""
        root = self.roots.get(id(module))
        if root is not None:
            self._walk(*root)

    def finish(self) -> None:
        for root in sorted(self.roots.values(), key=lambda r: r[0], reverse=True):
            self._walk(*root)
        self.reg.refresh_grad_names()

    def _walk(self, rank: int, name: str, module: torch.nn.Module) -> None:
        modules = self.modules
        for path, sub in module.named_modules(prefix=name, remove_duplicate=False):
            known = modules.get(id(sub))
            if known is None or known[0] > rank:
                modules[id(sub)] = (rank, path)
        paths: dict[int, list] = {}
        tensors: dict[int, torch.Tensor] = {}
        for path, t in module.named_parameters(prefix=name, remove_duplicate=False):
            if not isinstance(t, torch.nn.Parameter):
                continue  # a tensor swapped in for the call (functional_call, make_dual): not the module's own
            paths.setdefault(id(t), []).append(path)
            tensors[id(t)] = t
        for path, t in module.named_buffers(prefix=name, remove_duplicate=False):
            if t is not None:
                paths.setdefault(id(t), []).append(path)
                tensors[id(t)] = t
        for key, names in paths.items():
            self.reg.path_name(tensors[key], names[0], rank, names[1:])
