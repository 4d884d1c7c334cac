"""Turn an exception raised by (or into) the user's program into a spec `Error`."""
import traceback

from .limits import Abort

PROGRAM = "<program>"


def program_line_of(exc: BaseException) -> int | None:
    """The innermost line of the user's code in the exception's traceback."""
    if isinstance(exc, SyntaxError) and exc.filename == PROGRAM:
        return exc.lineno
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == PROGRAM:
            line = lineno
    return line


def _message(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:  # a user exception whose __str__ fails
        text = ""
    return text[:2000]


def error_of(exc: BaseException) -> dict:
    if isinstance(exc, Abort):
        kind, type_name, message = exc.kind, exc.type_name, exc.message
    elif isinstance(exc, SyntaxError):
        kind, type_name, message = "syntax", type(exc).__name__, exc.msg or _message(exc)
    elif isinstance(exc, MemoryError) or "DefaultCPUAllocator: can't allocate memory" in _message(exc):
        kind, type_name, message = "memory", type(exc).__name__, _message(exc) or "out of memory"
    else:
        kind, type_name, message = "runtime", type(exc).__name__, _message(exc)
    return {"kind": kind, "type": type_name[:200], "message": message or type_name, "line": program_line_of(exc)}
