"""Rewrite a program so every assignment to a plain name reports `(name, value)` to the tracer, and every
loop reports its iterations (for/while); the tracker decides which loops fold (nested ones inside a recorded
iteration too)."""
import ast
import re

BIND = "__gradtrace_bind__"
LOOP = "__gradtrace_loop__"  # for x in LOOP(iterable, line, end_line)
ITER = "__gradtrace_iter__"  # first statement of a while body: ITER(line, end_line)
LOOP_END = "__gradtrace_loop_end__"  # after a while loop (in a finally): LOOP_END(line)


def _names(target) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for elt in target.elts for n in _names(elt)]
    if isinstance(target, ast.Starred):
        return _names(target.value)
    return []


def _at(where: ast.AST) -> dict:
    return {"lineno": where.lineno, "col_offset": where.col_offset,
            "end_lineno": where.end_lineno, "end_col_offset": where.end_col_offset}


def _call(fn: str, args: list, where: ast.AST) -> ast.Call:
    loc = _at(where)
    return ast.Call(ast.Name(fn, ast.Load(), **loc), args, [], **loc)


def _const(value, where) -> ast.Constant:
    return ast.Constant(value, **_at(where))


def _bind_stmt(names: list[str], where: ast.AST) -> ast.stmt:
    # __gradtrace_bind__(("c", c), ("d", d)) — one call per statement keeps the overhead small.
    loc = _at(where)
    pairs = [ast.Tuple([ast.Constant(n, **loc), ast.Name(n, ast.Load(), **loc)], ast.Load(), **loc) for n in names]
    return ast.Expr(_call(BIND, pairs, where), **loc)


def _assigned(node) -> list[str]:
    if isinstance(node, ast.Assign):
        names = [n for t in node.targets for n in _names(t)]
    elif isinstance(node, ast.AnnAssign):
        names = _names(node.target) if node.value is not None else []
    elif isinstance(node, ast.AugAssign):
        names = _names(node.target)
    else:
        return []
    return [n for n in dict.fromkeys(names) if n != BIND]


class _Binder:
    """Walks statements only (expressions hold none): cheap even for programs of thousands of lines."""

    def body(self, stmts: list, in_loop: bool) -> list:
        out = []
        for node in stmts:
            out.extend(self.stmt(node, in_loop))
        return out

    def stmt(self, node, in_loop: bool) -> list:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.body = self.body(node.body, False)  # a function's own loops are loops of their own
            return [node]
        if isinstance(node, ast.ClassDef):
            node.body = self.body(node.body, in_loop)
            return [node]
        if isinstance(node, (ast.For, ast.AsyncFor)):
            node.body = self.body(node.body, True)
            node.orelse = self.body(node.orelse, in_loop)
            names = _names(node.target)
            if names:
                node.body.insert(0, _bind_stmt(names, node.target))
            if isinstance(node, ast.For):
                node.iter = _call(LOOP, [node.iter, _const(node.lineno, node), _const(node.end_lineno, node)], node.iter)
            return [node]
        if isinstance(node, ast.While):
            node.body = self.body(node.body, True)
            node.orelse = self.body(node.orelse, in_loop)
            mark = ast.Expr(_call(ITER, [_const(node.lineno, node), _const(node.end_lineno, node)], node), **_at(node))
            node.body.insert(0, mark)
            end = ast.Expr(_call(LOOP_END, [_const(node.lineno, node)], node), **_at(node))
            return [ast.Try(body=[node], handlers=[], orelse=[], finalbody=[end], **_at(node))]
        if isinstance(node, (ast.With, ast.AsyncWith)):
            node.body = self.body(node.body, in_loop)
            names = [n for item in node.items if item.optional_vars is not None for n in _names(item.optional_vars)]
            if names:
                node.body.insert(0, _bind_stmt(names, node))
            return [node]
        if isinstance(node, ast.If):
            node.body, node.orelse = self.body(node.body, in_loop), self.body(node.orelse, in_loop)
            return [node]
        if isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            node.body = self.body(node.body, in_loop)
            for h in node.handlers:
                h.body = self.body(h.body, in_loop)
            node.orelse, node.finalbody = self.body(node.orelse, in_loop), self.body(node.finalbody, in_loop)
            return [node]
        if isinstance(node, ast.Match):
            for case in node.cases:
                case.body = self.body(case.body, in_loop)
            return [node]
        names = _assigned(node)
        return [node, _bind_stmt(names, node)] if names else [node]


def instrument(code: str, filename: str):
    """Parse (raising SyntaxError as Python would), add name bindings and loop marks, compile."""
    tree = ast.parse(code, filename=filename, mode="exec")
    tree.body = _Binder().body(tree.body, False)
    return compile(tree, filename, "exec")


# Anything that binds a name other than by a module-level assignment, or reads the namespace as a dict, needs the
# rewritten program; false alarms (a keyword in a string) only cost the rewrite.
_NEEDS_REWRITE = re.compile(r"^[ \t]*(?:for|while|with|def|class|async|if|elif|else|try|except|finally|match|case|"
                            r"del|global|nonlocal|@)\b|:=|\b(?:exec|eval|compile|globals|locals|vars|__import__|"
                            r"__dict__|import\s*\*)", re.M)


def straight_line(code: str) -> bool:
    """Only simple statements at module level: every assignment is a STORE_NAME that BindingNamespace sees."""
    return _NEEDS_REWRITE.search(code) is None


class BindingNamespace(dict):
    """A module namespace reporting each assignment to `bind` as it happens: CPython stores module-level names through
    `__setitem__` when the namespace is a dict subclass. Saves rewriting and recompiling a long straight-line program."""

    __slots__ = ("bind",)

    def __init__(self, bind, items: dict):
        super().__init__(items)
        self.bind = bind

    def __setitem__(self, name, value):
        dict.__setitem__(self, name, value)
        self.bind((name, value))
