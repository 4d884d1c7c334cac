"""Replace file-, pickle- and native-code entry points of torch and numpy with functions that refuse.

Installed once in the warm parent after its warm-up (every forked run inherits them), so aliases and computed
names (`f = torch.load`, `getattr(np, "lo" + "ad")`) reach the refusal too. Torch's own one-time work that would
meet a stub or need a thread (TorchScript of forward-AD decompositions, Kineto's start) is done just before.
"""
import importlib
import os

import numpy
import torch
import torch.autograd.profiler
import torch.autograd.profiler_util
import torch.profiler

from .builtins import refuse

_TORCH = {
    "load": "torch.load unpickles files, which can run arbitrary code",
    "save": "torch.save writes files",
    "from_file": "torch.from_file reads files",
    "compile": "torch.compile generates and runs native code",
}
_TORCH_JIT = ("script", "trace", "load", "save", "compile", "freeze", "trace_module", "script_if_tracing")
# Torch modules that call torch.jit.script on torch's own code when first imported (forward-mode AD's
# decompositions: fwAD.make_dual and torch.func.jvp/jacfwd/hessian import it). Imported before the stubs go
# in, in the warm parent, so torch's internal use never meets the refusal meant for the user's TorchScript.
_SCRIPTS_ON_IMPORT = ("torch._decomp.decompositions_for_jvp",)
# Profiling on CPU runs; only its file writers are refused.
_PROFILER_EXPORTS = ((torch.profiler.profile, ("export_chrome_trace", "export_stacks", "export_memory_timeline")),
                     (torch.profiler.profiler._KinetoProfile, ("export_chrome_trace", "export_stacks",
                                                               "export_memory_timeline")),
                     (torch.autograd.profiler.profile, ("export_chrome_trace", "export_stacks")),
                     (torch.autograd.profiler_util.EventList, ("export_chrome_trace", "export_stacks")))
_PROFILER_FILES = ("tensorboard_trace_handler", "ExecutionTraceObserver")
_NUMPY = ("load", "save", "savez", "savez_compressed", "loadtxt", "savetxt", "genfromtxt", "fromfile", "fromregex",
          "memmap", "DataSource")


def _stub(reason: str):
    def refused(*args, **kwargs):
        raise refuse(reason)

    return refused


def _one_thread(n: int) -> None:
    """torch.set_num_threads: accepted and ignored. A run has one thread (new threads are blocked, and
    OpenMP would exit the process when it cannot start its workers)."""


def _start_profiler_once() -> None:
    """The first profiler session starts (and ends) a helper thread inside Kineto; a run may not start threads,
    so the warm parent pays that once and every forked run profiles without a new thread."""
    x = torch.ones(2, requires_grad=True)
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)  # Kineto logs its start and stop on fd 2: not the server's log
    try:
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]):
            (x * x).sum().backward()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def install() -> int:
    """Install every stub; returns how many entry points were replaced."""
    for module in _SCRIPTS_ON_IMPORT:
        importlib.import_module(module)
    _start_profiler_once()
    replaced = []
    for owner, names in _PROFILER_EXPORTS:
        replaced.extend((owner, name, f"profiler.{name} writes files (print prof.key_averages().table() "
                                      "instead)") for name in names)
    replaced.extend((torch.profiler, name, f"torch.profiler.{name} writes files") for name in _PROFILER_FILES)
    replaced.append((torch.autograd.profiler, "load_nvprof", "torch.autograd.profiler.load_nvprof reads files"))
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
