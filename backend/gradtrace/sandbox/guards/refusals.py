"""Replace file-, pickle- and native-code entry points of torch and numpy with functions that refuse.

Done in the forked child only (the warm parent keeps the real ones), so aliases and computed names
(`f = torch.load`, `getattr(np, "lo" + "ad")`) reach the refusal too.
"""
import numpy
import torch

from .builtins import refuse

_TORCH = {
    "load": "torch.load unpickles files, which can run arbitrary code",
    "save": "torch.save writes files",
    "from_file": "torch.from_file reads files",
    "compile": "torch.compile generates and runs native code",
}
_TORCH_JIT = ("script", "trace", "load", "save", "compile", "freeze", "trace_module", "script_if_tracing")
_NUMPY = ("load", "save", "savez", "savez_compressed", "loadtxt", "savetxt", "genfromtxt", "fromfile", "fromregex",
          "memmap", "DataSource")


def _stub(reason: str):
    def refused(*args, **kwargs):
        raise refuse(reason)

    return refused


def _one_thread(n: int) -> None:
    """torch.set_num_threads: accepted and ignored. A run has one thread (new threads are blocked, and
    OpenMP would exit the process when it cannot start its workers)."""


def install() -> int:
    """Install every stub; returns how many entry points were replaced."""
    replaced = []
    for name, reason in _TORCH.items():
        replaced.append((torch, name, reason))
    for name in _TORCH_JIT:
        replaced.append((torch.jit, name, f"torch.jit.{name} compiles or loads TorchScript"))
    for storage in (torch.UntypedStorage, torch.TypedStorage):
        replaced.append((storage, "from_file", "Storage.from_file reads files"))
    replaced.append((torch.ops, "load_library", "torch.ops.load_library loads native code"))
    replaced.append((torch.classes, "load_library", "torch.classes.load_library loads native code"))
    for name in _NUMPY:
        replaced.append((numpy, name, f"numpy.{name} reads or writes files"))
    torch.set_num_threads = _one_thread
    count = 0
    for owner, name, reason in replaced:
        if hasattr(owner, name):
            stub = _stub(reason)
            setattr(owner, name, staticmethod(stub) if isinstance(owner, type) else stub)
            count += 1
    return count
