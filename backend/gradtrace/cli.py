"""The `gradtrace` command."""
import argparse
import sys

from . import __version__


def _serve(args) -> int:
    from .api.app import create_app
    from .api.door import serve
    from .config import get_settings

    settings = get_settings()
    serve(create_app(settings), settings, host=args.host or settings.host, port=args.port or settings.port,
          log_level=args.log_level)
    return 0


def _read_program(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as f:
        return f.read()


def _trace(args) -> int:
    import json

    from .config import get_settings
    from .tracer import Limits, trace

    result = trace(_read_program(args.program), seed=args.seed, limits=Limits.from_settings(get_settings()))
    json.dump(result, sys.stdout, indent=args.indent, allow_nan=False)
    sys.stdout.write("\n")
    return 0 if result["status"] == "ok" or not args.check else 1


def _step(text: str):
    """--step: a step number or 'end'."""
    if text == "end":
        return "end"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a step number or 'end', not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("a step number is 0 or more")
    return value


def _export(args) -> int:
    from pathlib import Path

    from .export import ExportError, standalone_html, svg_from_trace, trace_program

    fmt = args.format or (Path(args.output).suffix.lower().lstrip(".") if args.output != "-" else "html")
    if fmt not in ("html", "svg"):
        print(f"gradtrace export: cannot tell the format of {args.output!r}: name it .html or .svg, or pass --format",
              file=sys.stderr)
        return 2
    try:
        code = _read_program(args.program)
    except OSError as exc:
        print(f"gradtrace export: cannot read {args.program}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    title = args.title or (None if args.program == "-" or code.lstrip().startswith("# title:") else Path(args.program).name)
    result = trace_program(code, seed=args.seed)
    if result["status"] != "ok":
        err = result["error"] or {}
        line = f" on line {err['line']}" if err.get("line") else ""
        print(f"gradtrace export: the program stopped{line}: {err.get('type', '')}: {err.get('message', '')} "
              "(the export shows the run up to there)", file=sys.stderr)
    try:
        if fmt == "html":
            out = standalone_html(result, code, title=title, theme=args.theme, step=args.step)
        else:
            out = svg_from_trace(result, code, title=title, theme=args.theme, step="end" if args.step is None else args.step)
    except ExportError as exc:
        print(f"gradtrace export: {exc}", file=sys.stderr)
        return 1
    if args.output == "-":
        sys.stdout.write(out)
    else:
        Path(args.output).write_text(out, encoding="utf-8")
        steps = len(result["forward"]) + sum(len(p["steps"]) for p in result["backward"])
        print(f"wrote {args.output} ({len(out.encode()) / 1024:.0f} KB, {len(result['nodes'])} autograd nodes, "
              f"{steps} steps)", file=sys.stderr)
    return 0 if result["status"] == "ok" or not args.check else 1


def _settings(args) -> int:
    from .config import Settings

    for name, field in Settings.model_fields.items():
        print(f"GRADTRACE_{name.upper():<24} default {field.get_default(call_default_factory=True)!s:<34} {field.description}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gradtrace", description="See PyTorch's autograd at work.")
    parser.add_argument("--version", action="version", version=f"gradtrace {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web app and REST API",
                           description="Run the web app and the REST API (settings: GRADTRACE_* variables).")
    serve.add_argument("--host", default=None, help="address to bind (default 127.0.0.1, or GRADTRACE_HOST)")
    serve.add_argument("--port", type=int, default=None, help="port to listen on (default 8000, or GRADTRACE_PORT)")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve.set_defaults(func=_serve)
    tr = sub.add_parser("trace", help="trace a program and print the trace JSON",
                        description="Run a program (your own: it runs in this process, unsandboxed) and print its "
                        "Trace as JSON, the same document POST /api/v1/traces returns.")
    tr.add_argument("program", help="path of a Python file, or - for standard input")
    tr.add_argument("--seed", type=int, default=0, help="torch.manual_seed applied first (default 0)")
    tr.add_argument("--indent", type=int, default=None, help="pretty-print with this indent")
    tr.add_argument("--check", action="store_true", help="exit 1 when the program itself fails")
    tr.set_defaults(func=_trace)
    ex = sub.add_parser(
        "export", help="write a standalone HTML animation (or an SVG of the graph) of a program",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Trace a program (your own: it runs in this process, unsandboxed) and write either\n"
        "  .html  one self-contained file that plays the whole animation offline (open it from disk,\n"
        "         put it on a course page or an LMS; no server, no network), or\n"
        "  .svg   the graph at one step (default: the end) as a self-contained SVG for slides\n"
        "         (drawn by headless Chromium through Playwright).",
        epilog="examples:\n  gradtrace export prog.py -o prog.html\n  gradtrace export prog.py -o graph.svg --theme dark\n"
        "  gradtrace export prog.py -o prog.html --step end --seed 3")
    ex.add_argument("program", help="path of a Python file, or - for standard input")
    ex.add_argument("-o", "--output", required=True, help="file to write (.html or .svg), or - for standard output")
    ex.add_argument("--format", choices=["html", "svg"], default=None, help="output format (default: from the file name)")
    ex.add_argument("--seed", type=int, default=0, help="torch.manual_seed applied first (default 0)")
    ex.add_argument("--step", type=_step, default=None, metavar="N|end",
                    help="step shown first (html) or drawn (svg): a number or 'end' (default: html starts at 0, svg "
                    "draws the end)")
    ex.add_argument("--theme", choices=["light", "dark"], default="light", help="colour theme (default light)")
    ex.add_argument("--title", default=None, help="title shown in the file (default: the program's '# title:' line, "
                    "else its file name)")
    ex.add_argument("--check", action="store_true", help="exit 1 when the program itself fails (the file is still written)")
    ex.set_defaults(func=_export)
    settings = sub.add_parser("settings", help="list every setting, its environment variable and default")
    settings.set_defaults(func=_settings)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
