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
    settings = sub.add_parser("settings", help="list every setting, its environment variable and default")
    settings.set_defaults(func=_settings)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
