"""Where the user's program is on the stack: its line, and which library code sits between it and a call."""
import sys

PROGRAM = "<program>"


def program_line() -> int | None:
    """Line of the innermost frame that runs the user's code."""
    return call_context()[0]


def call_context() -> tuple[int | None, str | None]:
    """(line of the user's code, "init" | "optim" | None): which library code sits between it and this call."""
    f, within = sys._getframe(1), None
    while f is not None:
        name = f.f_code.co_filename
        if name == PROGRAM:
            return f.f_lineno, within
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
