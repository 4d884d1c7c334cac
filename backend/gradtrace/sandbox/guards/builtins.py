"""The builtins a program sees: the harmless ones, plus guarded import and attribute functions."""
import builtins as _real
import dis
import functools
import sys

from ...tracer import Abort
from . import policy

REFUSED_TYPE = "Refused"
_IMPORT_NAME = dis.opmap["IMPORT_NAME"]

_SAFE = [
    "abs", "all", "any", "ascii", "bin", "bool", "bytearray", "bytes", "callable", "chr", "classmethod", "complex",
    "dict", "dir", "divmod", "enumerate", "filter", "float", "format", "frozenset", "hash", "hex", "id", "int",
    "isinstance", "issubclass", "iter", "len", "list", "map", "max", "min", "next", "object", "oct", "ord", "pow",
    "print", "property", "range", "repr", "reversed", "round", "set", "slice", "sorted", "staticmethod", "str",
    "sum", "super", "tuple", "type", "zip", "aiter", "anext", "__build_class__", "Ellipsis", "NotImplemented",
]
# Deliberately absent: open, eval, exec, compile, input, breakpoint, globals, locals, vars, help, memoryview,
# exit, quit, and the real __import__.


def refuse(reason: str) -> Abort:
    return Abort("refused", reason, REFUSED_TYPE)


def _is_import_statement() -> bool:
    """True when the program's own `import`/`from` statement is running, False when a library's C code
    imports on its behalf (numpy's ndarray.sum importing numpy._core._methods, time.strptime importing
    _strptime): C code looks up __import__ in the calling frame's builtins, which are these."""
    frame = sys._getframe(2)
    offset = frame.f_lasti if sys.version_info >= (3, 11) else frame.f_lasti * 2
    code = frame.f_code
    return code.co_filename != "<program>" or code.co_code[offset] == _IMPORT_NAME


def _guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    if not _is_import_statement():
        return _real.__import__(name, globals, locals, fromlist, level)
    if level:
        raise refuse("relative imports are not allowed")
    reason = policy.module_reason(name)
    if reason:
        raise refuse(reason)
    for item in fromlist or ():
        sub = f"{name}.{item}"
        reason = policy.module_reason(sub) if any(
            sub == d or sub.startswith(d + ".") for d in policy.DENIED_MODULES) else policy.attr_reason(item)
        if reason:
            raise refuse(reason)
    return _real.__import__(name, globals, locals, fromlist, level)


def _check_name(name) -> None:
    reason = policy.computed_attr_reason(name)
    if reason:
        raise refuse(reason)


_MISSING = object()


def _getattr(obj, name, default=_MISSING):
    _check_name(name)
    return _real.getattr(obj, name) if default is _MISSING else _real.getattr(obj, name, default)


def _hasattr(obj, name):
    _check_name(name)
    return _real.hasattr(obj, name)


def _setattr(obj, name, value):
    _check_name(name)
    _real.setattr(obj, name, value)


def _delattr(obj, name):
    _check_name(name)
    _real.delattr(obj, name)


@functools.lru_cache(maxsize=1)
def restricted_builtins() -> dict:
    """The builtins dict of a run's globals; every exception class stays available for try/except.
    Built once in the warm parent: each run has a freshly forked copy, so no run sees another's changes."""
    table = {name: getattr(_real, name) for name in _SAFE}
    table.update({name: value for name, value in vars(_real).items()
                  if isinstance(value, type) and issubclass(value, BaseException)})
    table.update(__import__=_guarded_import, getattr=_getattr, hasattr=_hasattr, setattr=_setattr,
                 delattr=_delattr, __name__="builtins")
    return table
