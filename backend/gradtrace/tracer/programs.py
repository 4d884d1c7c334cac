"""Where the user's program is on the stack: its line, and which library code sits between it and a call."""
import bisect
import sys

PROGRAM = "<program>"

# id(code) -> (code, its co_lines() entries): CPython's `f_lineno` scans the line table from its start (~150 µs per
# lookup in a 10,000-line module); a table built once per code object makes a lookup a bisect.
_LINE_TABLES: dict[int, tuple] = {}
_AFTER = float("inf")  # (offset, inf) sorts after every (offset, end, line) entry that starts at offset


def frame_line(f) -> int | None:
    """`f.f_lineno` of a frame running the program, without CPython's linear scan of the line table."""
    code = f.f_code
    table = _LINE_TABLES.get(id(code))
    if table is None or table[0] is not code:
        table = _LINE_TABLES[id(code)] = (code, list(code.co_lines()))
    offset = f.f_lasti
    if offset < 0:  # not started yet: CPython reports the first line
        return f.f_lineno
    i = bisect.bisect_right(table[1], (offset, _AFTER)) - 1
    return table[1][i][2] if i >= 0 else f.f_lineno


def forget_lines() -> None:
    """Drop the line tables of a finished run (its code objects die with it)."""
    _LINE_TABLES.clear()


def program_line() -> int | None:
    """Line of the innermost frame that runs the user's code."""
    return call_context()[0]


def call_context(depth: int = 1) -> tuple[int | None, str | None]:
    """(line of the user's code, "init" | "optim" | None): which library code sits between it and this call.
    `depth`: how many of the innermost frames (the tracer's own) to skip."""
    f, within = sys._getframe(depth), None
    while f is not None:
        name = f.f_code.co_filename
        if name == PROGRAM:
            return frame_line(f), within
        if within is None:
            code = f.f_code.co_name
            if name.endswith(_INIT_FILES) or code == "reset_parameters" or (code == "__init__" and _NN_DIR in name):
                within = "init"
            elif _OPTIM_DIR in name:
                within = "optim"
        f = f.f_back
    return None, within


_INIT_FILES = ("torch/nn/init.py",)
_OPTIM_DIR = "torch/optim/"
_NN_DIR = "torch/nn/modules/"
