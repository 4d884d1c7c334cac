"""The `gradtrace` command."""
import argparse
import sys

from . import __version__


def _serve(args) -> int:
    import uvicorn

    from .api.app import create_app
    from .config import get_settings

    settings = get_settings()
    uvicorn.run(create_app(settings), host=args.host or settings.host, port=args.port or settings.port,
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


def _settings(args) -> int:
    from .config import Settings

    for name, field in Settings.model_fields.items():
        print(f"GRADTRACE_{name.upper():<24} default {field.default!s:<34} {field.description}")
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
    settings = sub.add_parser("settings", help="list every setting, its environment variable and default")
    settings.set_defaults(func=_settings)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
