"""gradtrace: see PyTorch's autograd at work."""
__version__ = "0.1.0"

# Loaded on first use, so `import gradtrace` stays light (no torch) for the server and the CLI.
_LAZY = {"show": "notebook", "load_ipython_extension": "notebook", "standalone_html": "export"}


def __getattr__(name):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
