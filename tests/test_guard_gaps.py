"""Language-guard gaps of issue 19: private aliases of os, sys, builtins and open in allowed modules. Each
technique reaches the dangerous object in plain Python; the guards refuse it, written out or computed."""
import builtins
import io
import os
import sys

import pytest

from gradtrace.sandbox.guards import ast_check
from gradtrace.sandbox.guards.builtins import restricted_builtins

# (module to import, attribute path, what it reaches)
GAPS = [
    ("random", "_os", os),
    ("collections", "_sys", sys),
    ("pprint", "_sys", sys),
    ("enum", "bltns", builtins),
    ("numpy", "lib._datasource._open", io.open),
]


def reach(module: str, path: str):
    obj = __import__(module)
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("module,path,target", GAPS, ids=[f"{m}.{p}" for m, p, _ in GAPS])
def test_the_technique_works_without_the_guards(module, path, target):
    assert reach(module, path) is target
    if target is sys:
        assert reach(module, path).modules["os"] is os  # and through it sys.modules: every module loaded


@pytest.mark.parametrize("module,path,target", GAPS, ids=[f"{m}.{p}" for m, p, _ in GAPS])
def test_the_guards_refuse_it_written_out(module, path, target):
    code = f"import {module}\nx = {module}.{path}\n"
    with pytest.raises(ast_check.Refusal):
        ast_check.check(code)
    if target is sys:
        with pytest.raises(ast_check.Refusal):
            ast_check.check(f"import {module}\nos = {module}.{path}.modules['os']\n")


@pytest.mark.parametrize("module,path,target", GAPS, ids=[f"{m}.{p}" for m, p, _ in GAPS])
def test_the_guards_refuse_it_computed(module, path, target):
    guarded_getattr = restricted_builtins()["getattr"]
    obj = __import__(module)
    parts = path.split(".")
    with pytest.raises(BaseException) as refused:  # the guards refuse with an Abort (kind "refused")
        for part in parts:
            obj = guarded_getattr(obj, part[:1] + "" + part[1:])
    assert "not allowed" in str(refused.value)


def test_names_that_share_a_prefix_still_work():
    ast_check.check("import torch\nm = torch.nn.Linear(2, 2)\nprint(list(m.modules()), m.weight.data)\n")
