"""Static check of a program before it runs: refuse dunder escapes, denied attributes and imports."""
import ast
import re

from . import policy

_FORMAT_FIELD = re.compile(r"\{([^{}]*)\}")
_FIELD_ATTR = re.compile(r"\.\s*(\w+)")


class Refusal(Exception):
    """The program uses something gradtrace will not run; `line` is 1-based in the program."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.message, self.line = message, line


def _format_string_reason(text: str) -> str | None:
    # "{0.__class__.__mro__}".format(x) reads attributes without any Attribute node in the AST
    for field in _FORMAT_FIELD.findall(text):
        for name in _FIELD_ATTR.findall(field):
            if name.startswith("__") or policy.attr_reason(name):
                return f"format strings may not reach attribute `{name}`"
    return None


def _import_reasons(node: ast.AST):
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield policy.module_reason(alias.name)
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            yield "relative imports are not allowed"
            return
        module = node.module or ""
        yield policy.module_reason(module)
        for alias in node.names:
            sub = f"{module}.{alias.name}"
            if any(sub == d or sub.startswith(d + ".") for d in policy.DENIED_MODULES):
                yield policy.module_reason(sub)
            yield policy.attr_reason(alias.name)


def _reasons(node: ast.AST):
    if isinstance(node, ast.Attribute):
        yield policy.attr_reason(node.attr)
    elif isinstance(node, ast.Name):
        if node.id in policy.DENIED_NAMES or node.id in policy.DENIED_DUNDERS:
            yield f"the name `{node.id}` is not available in gradtrace"
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        yield from _import_reasons(node)
    elif isinstance(node, ast.MatchClass):
        for name in node.kwd_attrs:  # `case C(__globals__=g)` reads an attribute too
            yield policy.attr_reason(name)
    elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "{" in node.value:
        yield _format_string_reason(node.value)


def check(code: str) -> None:
    """Raise Refusal for the first refused construct; programs that don't parse are left to the tracer
    (which reports them as syntax errors)."""
    try:
        tree = ast.parse(code, filename="<program>")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    for node in ast.walk(tree):
        for reason in _reasons(node):
            if reason:
                raise Refusal(reason, getattr(node, "lineno", None))
