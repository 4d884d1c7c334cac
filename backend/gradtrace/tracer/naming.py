"""Rewrite a program so every assignment to a plain name reports `(name, value)` to the tracer."""
import ast

BIND = "__gradtrace_bind__"


def _names(target) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for elt in target.elts for n in _names(elt)]
    if isinstance(target, ast.Starred):
        return _names(target.value)
    return []


def _bind_stmt(names: list[str], where: ast.AST) -> ast.stmt:
    # __gradtrace_bind__(("c", c), ("d", d)) — one call per statement keeps the overhead small.
    pairs = [ast.Tuple([ast.Constant(n), ast.Name(n, ast.Load())], ast.Load()) for n in names]
    call = ast.Expr(ast.Call(ast.Name(BIND, ast.Load()), pairs, []))
    for node in ast.walk(call):  # cheaper than fix_missing_locations over the whole tree
        ast.copy_location(node, where)
    return call


class _Binder(ast.NodeTransformer):
    def _after(self, node, names):
        node = self.generic_visit(node)
        names = [n for n in dict.fromkeys(names) if n != BIND]
        if not names:
            return node
        return [node, _bind_stmt(names, node)]

    def visit_Assign(self, node):
        return self._after(node, [n for t in node.targets for n in _names(t)])

    def visit_AnnAssign(self, node):
        return self._after(node, _names(node.target) if node.value is not None else [])

    def visit_AugAssign(self, node):
        return self._after(node, _names(node.target))

    def _loop(self, node):
        node = self.generic_visit(node)
        names = _names(node.target)
        if names:
            node.body.insert(0, _bind_stmt(names, node.target))
        return node

    visit_For = _loop
    visit_AsyncFor = _loop

    def visit_With(self, node):
        node = self.generic_visit(node)
        names = [n for item in node.items if item.optional_vars is not None for n in _names(item.optional_vars)]
        if names:
            node.body.insert(0, _bind_stmt(names, node))
        return node


def instrument(code: str, filename: str):
    """Parse (raising SyntaxError as Python would), add name bindings, compile."""
    tree = ast.parse(code, filename=filename, mode="exec")
    return compile(_Binder().visit(tree), filename, "exec")
