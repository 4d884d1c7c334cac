"""Jupyter: `gradtrace.show(code)` and the `%%gradtrace` cell magic show the animation inline, with no server.

The output is the standalone HTML file in an `<iframe srcdoc>`: its scripts and styles stay in their
own document (the notebook's CSS and other outputs cannot clash with them) and it works in saved
notebooks, nbviewer and VS Code alike. IPython is optional: the result only needs `_repr_html_`.
"""
import argparse
import html
import shlex

from .export import standalone_html, trace_program


class Animation:
    """A traced program ready to display: Jupyter shows `_repr_html_`; `save()` writes the standalone file."""

    def __init__(self, trace: dict, code: str, *, height: int = 600, title=None, theme: str = "light", step=None):
        self.trace, self.code, self.height = trace, code, int(height)
        self.html = standalone_html(trace, code, title=title, theme=theme, step=step)

    def _repr_html_(self) -> str:
        # sandbox: scripts run, but in an opaque origin (no access to the notebook, its cookies or kernel).
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" sandbox="allow-scripts" '
                f'style="width:100%;height:{self.height}px;border:1px solid #d9dee8;border-radius:6px" '
                f'title="gradtrace animation"></iframe>')

    @property
    def data(self) -> str:  # the attribute IPython.display.HTML keeps its markup in
        return self._repr_html_()

    def save(self, path) -> None:
        """Write the standalone HTML file (plays offline from disk)."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.html)

    def __repr__(self) -> str:
        steps = len(self.trace["forward"]) + sum(len(p["steps"]) for p in self.trace["backward"])
        return f"<gradtrace.Animation: {self.trace['status']}, {len(self.trace['nodes'])} autograd nodes, {steps} steps>"


def show(code: str, seed: int = 0, height: int = 600, *, title=None, theme: str = "light", step=None) -> Animation:
    """Trace `code` here (in this kernel) and return its animation for Jupyter to display.

    `step`: where it starts (a step number or "end"); `theme`: "light" or "dark".
    """
    return Animation(trace_program(code, seed=seed), code, height=height, title=title, theme=theme, step=step)


def _magic_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="%%gradtrace", add_help=False, exit_on_error=False)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--height", type=int, default=600)
    p.add_argument("--theme", choices=["light", "dark"], default="light")
    p.add_argument("--step", default=None)
    p.add_argument("--title", default=None)
    return p


def gradtrace_magic(line: str, cell: str) -> Animation:
    """%%gradtrace [--seed N] [--height PX] [--theme light|dark] [--step N|end] [--title TEXT]: animate the cell."""
    try:
        args = _magic_parser().parse_args(shlex.split(line))
    except (argparse.ArgumentError, SystemExit) as exc:
        raise ValueError(f"%%gradtrace: {exc}. Options: --seed N --height PX --theme light|dark --step N|end "
                         "--title TEXT") from None
    step = args.step if args.step in (None, "end") else int(args.step)
    return show(cell, seed=args.seed, height=args.height, title=args.title, theme=args.theme, step=step)


def load_ipython_extension(ip) -> None:
    """`%load_ext gradtrace`: registers the %%gradtrace cell magic."""
    ip.register_magic_function(gradtrace_magic, magic_kind="cell", magic_name="gradtrace")
