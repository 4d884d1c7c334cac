"""The builtins a program sees: the harmless ones, plus guarded import and attribute functions."""
import builtins as _real
import dis
import functools
import sys

from ...tracer import Abort
from . import ast_check, policy

REFUSED_TYPE = "Refused"
_USER_FILES = ("<program>", "<string>")  # the program, and strings it runs with eval/exec
_IMPORT_NAME = dis.opmap["IMPORT_NAME"]

_SAFE = [
    "abs", "all", "any", "ascii", "bin", "bool", "bytearray", "bytes", "callable", "chr", "classmethod", "complex",
    "dict", "dir", "divmod", "enumerate", "filter", "float", "format", "frozenset", "hash", "hex", "id", "int",
    "isinstance", "issubclass", "iter", "len", "list", "map", "max", "min", "next", "object", "oct", "ord", "pow",
    "print", "property", "range", "repr", "reversed", "round", "set", "slice", "sorted", "staticmethod", "str",
    "sum", "super", "tuple", "type", "zip", "aiter", "anext", "__build_class__", "Ellipsis", "NotImplemented",
]
# Not the real ones: eval/exec run a string under these same guards (below); the real __import__ is guarded.
# Refused with a reason (a call raises `refused`, not a confusing NameError):
_REFUSED_BUILTINS = {
    "open": "open() reads and writes files",
    "compile": "compile() builds code objects outside the guards (eval/exec of a string work)",
    "input": "input() waits for a keyboard the sandbox does not have",
    "breakpoint": "breakpoint() starts a debugger",
    "globals": "globals() exposes the run's namespace internals",
    "locals": "locals() exposes the run's namespace internals",
    "vars": "vars() reads an object's __dict__",
    "help": "help() starts an interactive pager",
    "memoryview": "memoryview() gives raw access to memory",
    "exit": "exit() would end the sandbox process; the program ends at its last line",
    "quit": "quit() would end the sandbox process; the program ends at its last line",
}


def refuse(reason: str) -> Abort:
    return Abort("refused", reason, REFUSED_TYPE)


def _is_import_statement() -> bool:
    """True when the program's own `import`/`from` statement is running, False when a library's C code
    imports on its behalf (numpy's ndarray.sum importing numpy._core._methods, time.strptime importing
    _strptime): C code looks up __import__ in the calling frame's builtins, which are these."""
    frame = sys._getframe(2)
    offset = frame.f_lasti if sys.version_info >= (3, 11) else frame.f_lasti * 2
    code = frame.f_code
    return code.co_filename not in _USER_FILES or code.co_code[offset] == _IMPORT_NAME


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


def _source(code, what: str) -> str:
    """The text eval/exec may run: a string (or bytes) that passes the same static check as the program."""
    if isinstance(code, (bytes, bytearray)):
        code = bytes(code).decode("utf-8")
    if not isinstance(code, str):
        raise refuse(f"{what}() runs strings only in gradtrace (code objects bypass the guards)")
    try:
        ast_check.check(code)
    except ast_check.Refusal as refusal:
        raise refuse(f"{what}() of a string: {refusal.message}") from None
    return code


def _namespaces(globals, locals) -> tuple[dict, object]:
    """The caller's namespaces when none are given (as the real builtins do), always with these builtins."""
    if globals is None:
        caller = sys._getframe(2)
        if caller.f_code.co_filename not in _USER_FILES:  # called back from a library: never its namespace
            globals = {}
        else:
            globals, locals = caller.f_globals, caller.f_locals if locals is None else locals
    if type(globals) is not dict:  # a subclass could ignore our __builtins__ and get the real ones from exec
        raise refuse("eval()/exec() take a plain dict as globals in gradtrace")
    dict.__setitem__(globals, "__builtins__", restricted_builtins())  # the string runs under the same guards
    return globals, globals if locals is None else locals


def _eval(source, globals=None, locals=None, /):
    code = compile(_source(source, "eval"), "<string>", "eval", dont_inherit=True)
    globals, locals = _namespaces(globals, locals)
    return _real.eval(code, globals, locals)


def _exec(source, globals=None, locals=None, /):
    code = compile(_source(source, "exec"), "<string>", "exec", dont_inherit=True)
    globals, locals = _namespaces(globals, locals)
    _real.exec(code, globals, locals)


def _refused_builtin(name: str, reason: str):
    def refused(*args, **kwargs):
        raise refuse(f"{name}() is not available in gradtrace: {reason}")

    refused.__name__ = refused.__qualname__ = name
    return refused


@functools.lru_cache(maxsize=1)
def restricted_builtins() -> dict:
    """The builtins dict of a run's globals; every exception class stays available for try/except.
    Built once in the warm parent: each run has a freshly forked copy, so no run sees another's changes."""
    table = {name: getattr(_real, name) for name in _SAFE}
    table.update({name: value for name, value in vars(_real).items()
                  if isinstance(value, type) and issubclass(value, BaseException)})
    table.update({name: _refused_builtin(name, reason) for name, reason in _REFUSED_BUILTINS.items()})
    table.update(__import__=_guarded_import, getattr=_getattr, hasattr=_hasattr, setattr=_setattr,
                 delattr=_delattr, eval=_eval, exec=_exec, __name__="builtins")
    return table
