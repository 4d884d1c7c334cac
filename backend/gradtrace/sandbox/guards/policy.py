"""What the language-level guard allows and refuses, with the plain reason a user sees.

These checks give friendly `refused` errors for the obvious routes; they are not the security boundary
(torch hands out os/sys/ctypes through dozens of attribute paths): the OS layers are.
"""

# Importable modules: exact names or packages whose submodules are allowed too (unless DENIED_MODULES).
ALLOWED_MODULES = {
    "torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.utils", "torch.nn.parameter",
    "torch.nn.modules", "torch.optim", "torch.autograd", "torch.func", "torch.linalg", "torch.fft",
    "torch.special", "torch.distributions", "torch.utils", "torch.utils.data", "torch.utils.hooks",
    "torch.testing", "torch.masked", "torch.nested", "torch.cuda", "torch.random",
    "torch.profiler", "torch.utils.checkpoint",  # CPU profiling (file exports refused, refusals.py); checkpointing
    "numpy", "numpy.linalg", "numpy.random", "numpy.fft",
}
# Pure standard-library modules: they compute on values and cannot reach files, processes or the network
# (the char-RNN tutorial's `import string`, makemore's `random`, a config `dataclass`). Each is imported and
# used in the real sandbox by tests/test_stdlib_allowed.py; the attributes through which some of them hold
# `os`/`sys`/builtins (`random._os`, `collections._sys`, `enum.bltns`, `string.Formatter.get_field`...) stay
# refused by DENIED_ATTRS and the dunder rules. `time` gives clocks (reads only; sleeping is bounded by the
# run's timeout). Documented in docs/security.md.
PURE_STDLIB = (
    "math", "cmath", "random", "functools", "itertools", "collections", "collections.abc", "operator",
    "statistics", "typing", "typing_extensions", "dataclasses", "enum", "abc", "numbers", "fractions",
    "decimal", "heapq", "bisect", "copy", "time", "json", "re", "textwrap", "pprint", "contextlib", "warnings",
    "string", "unicodedata", "array", "datetime", "colorsys", "struct", "keyword", "graphlib",
)
ALLOWED_MODULES |= set(PURE_STDLIB)
# Packages whose every submodule is importable (torch.nn.modules.linear, torch.optim.lr_scheduler, ...).
ALLOWED_PACKAGES = ("torch.nn.", "torch.optim.", "torch.autograd.", "torch.distributions.", "torch.func.",
                    "torch.utils.data.", "collections.")

DENIED_MODULES = {
    "torch.hub": "torch.hub downloads and runs code from the internet",
    "torch.jit": "TorchScript (torch.jit) compiles and loads code outside what gradtrace can trace",
    "torch.package": "torch.package loads pickled code",
    "torch.distributed": "torch.distributed opens network connections",
    "torch.multiprocessing": "torch.multiprocessing starts processes",
    "torch.utils.cpp_extension": "torch.utils.cpp_extension compiles and loads native code",
    "torch.utils.data.datapipes": "datapipes open files and URLs",
}

# Attribute names never reachable from a program, whatever the object (reason shown to the user).
_DUNDER_REASON = "introspection of interpreter internals ({}) can escape the sandbox"
DENIED_DUNDERS = {
    "__subclasses__", "__globals__", "__builtins__", "__code__", "__closure__", "__dict__", "__class__",
    "__bases__", "__base__", "__mro__", "__getattribute__", "__reduce__", "__reduce_ex__", "__import__",
    "__loader__", "__spec__", "__self__", "__func__", "__traceback__", "__objclass__", "__defaults__",
    "__kwdefaults__", "__getstate__", "__setstate__", "__init_subclass__", "__set_name__", "__file__",
    "__path__", "__cached__", "__wrapped__",
}
DENIED_ATTRS = {
    # frames and code objects
    "tb_frame": "frames", "tb_next": "frames", "f_globals": "frames", "f_locals": "frames", "f_back": "frames",
    "f_builtins": "frames", "f_code": "frames", "gi_frame": "frames", "gi_code": "frames", "cr_frame": "frames",
    "cr_code": "frames", "ag_frame": "frames", "ag_code": "frames", "co_code": "code objects",
    "mro": "class internals",
    # modules torch and numpy re-export
    "os": "the os module", "sys": "the sys module", "ctypes": "ctypes (native code)", "importlib": "importlib",
    "builtins": "the builtins module", "subprocess": "subprocess", "pickle": "pickle", "marshal": "marshal",
    "shutil": "shutil", "socket": "sockets", "inspect": "inspect", "io": "file I/O", "tempfile": "temporary files",
    "pathlib": "file paths", "glob": "file paths", "platform": "platform", "sysconfig": "sysconfig",
    "signal": "signals", "threading": "threads", "multiprocessing": "processes", "gc": "the garbage collector",
    "types": "the types module", "linecache": "file access", "traceback": "frames", "weakref": "weakref",
    "_thread": "threads", "resource": "resource limits", "mmap": "memory maps", "_ctypes": "ctypes (native code)",
    "ctypeslib": "ctypes (native code)", "_dl": "native code", "_utils_internal": "torch internals",
    "serialization": "pickle-based serialization", "model_zoo": "downloads",
    # dangerous torch / numpy surfaces
    # dangerous torch / numpy surfaces (torch.load, torch.save, torch.compile, numpy.load... are refused at
    # run time instead, see refusals.py, because `load`/`save`/`compile` are common names elsewhere)
    "_C": "torch._C internals", "_dynamo": "torch._dynamo", "_inductor": "torch._inductor",
    "hub": "torch.hub downloads and runs code from the internet",
    "jit": "TorchScript (torch.jit) compiles code outside what gradtrace can trace",
    "package": "torch.package loads pickled code", "distributed": "torch.distributed opens network connections", "cpp_extension": "native extensions", "load_library": "native libraries",
    "classes": "torch.classes (native classes)", "from_file": "reading files (from_file)",
    "fromfile": "reading files (numpy.fromfile)", "tofile": "writing files (tofile)", "npyio": "file I/O",
    "open_memmap": "memory-mapped files", "memmap": "memory-mapped files", "f2py": "native code",
    "distutils": "native code", "tensorboard": "writing files",
    "DataSource": "reading files and URLs", "export": "torch.export", "onnx": "ONNX export",
    "attrgetter": "attrgetter can reach any attribute", "methodcaller": "methodcaller can call any method",
    "_share_filename_cpu_": "shared memory files", "_share_fd_cpu_": "shared memory files",
    "_new_shared_filename_cpu": "shared memory files", "_new_shared_fd_cpu": "shared memory files",
    "_load_from_bytes": "pickle", "format_map": "format strings reaching attributes",
    "get_field": "format strings reaching attributes", "vformat": "format strings reaching attributes",
}
# Private module aliases of the standard library and numpy (issue 19): random._os, collections._sys / pprint._sys
# (and through them sys.modules), enum.bltns, numpy.lib._datasource._open (io.open).
DENIED_ATTRS.update({"_os": "the os module", "_sys": "the sys module", "bltns": "the builtins module",
                     "_open": "file I/O", "_datasource": "reading files and URLs"})
# Standard-library helpers that evaluate strings with the interpreter's real builtins (issue 12's bypasses).
DENIED_ATTRS.update({name: "it evaluates strings with the interpreter's own builtins" for name in (
    "_create_fn", "_evaluate", "_eval_type", "_getcategory", "get_type_hints")})
# Private module aliases in the allowed pure standard library that hold os, sys, builtins, sockets or file I/O.
DENIED_ATTRS.update({"_os": "the os module", "_sys": "the sys module", "bltns": "the builtins module",
                     "_types": "the types module", "_socket": "sockets", "codecs": "file I/O (codecs.open)",
                     "copyreg": "pickle internals"})
# Names a program may not mention at all.
DENIED_NAMES = {"__builtins__", "__import__", "__loader__", "__spec__", "__file__", "__cached__",
                "__gradtrace_bind__", "__build_class__"}


def attr_reason(name: str) -> str | None:
    """Why attribute `name` is refused, or None when it is fine."""
    if name in DENIED_DUNDERS:
        return f"access to `{name}` is not allowed: " + _DUNDER_REASON.format(name)
    if name in DENIED_ATTRS:
        return f"access to `.{name}` is not allowed in gradtrace: {DENIED_ATTRS[name]}"
    return None


def computed_attr_reason(name) -> str | None:
    """getattr/setattr/delattr/hasattr with a name built at run time: every dunder is refused as well."""
    if not isinstance(name, str):
        return None
    if name.startswith("__") and name.endswith("__") and name not in SAFE_COMPUTED_DUNDERS:
        return f"getattr with the dunder name `{name}` is not allowed: " + _DUNDER_REASON.format(name)
    return attr_reason(name)


# dunders a computed getattr may still use (operator overloading helpers written by users)
SAFE_COMPUTED_DUNDERS = {"__name__", "__qualname__", "__doc__", "__len__", "__iter__", "__next__", "__call__"}


def module_reason(name: str) -> str | None:
    """Why `import name` is refused, or None when allowed."""
    for denied, reason in DENIED_MODULES.items():
        if name == denied or name.startswith(denied + "."):
            return f"import of {name} is not allowed: {reason}"
    if name in ALLOWED_MODULES or name.startswith(ALLOWED_PACKAGES):
        return None
    return (f"import of {name} is not allowed in gradtrace (allowed: torch and its user-facing submodules, "
            "numpy, and pure standard-library helpers: " + ", ".join(sorted(PURE_STDLIB)) + ")")
