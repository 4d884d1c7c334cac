"""The language-level guards on their own (no processes): what is refused, what keeps working."""
import pytest

from gradtrace.sandbox.guards import ast_check, policy
from gradtrace.sandbox.guards.builtins import restricted_builtins
from gradtrace.sandbox.layers import seccomp
from gradtrace.tracer import Abort

ALLOWED = [
    "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nfrom torch.autograd import Function\n",
    "from torch.optim import SGD\nfrom torch.optim.lr_scheduler import StepLR\nimport numpy as np\n",
    "import math, random, functools, itertools, collections, operator, dataclasses, typing, re, json\n",
    "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    "    def __repr__(self):\n        return 'Net'\n",
    "if __name__ == '__main__':\n    print(f'{1 + 1} {[i for i in range(3)]}')\n",
    "x = y.__len__()\nz = a.__add__(b)\nprint('{0.shape} {name}'.format(t, name='t'))\n",
    "g = x.grad_fn._saved_self\nprint(x._version)\n",
    "import re\npattern = re.compile('a+')\nimport json\ndata = json.loads('[1]')\n",
]
REFUSED = {
    "import os\n": "import of os",
    "import torch.hub\n": "torch.hub",
    "from torch.utils import cpp_extension\n": "cpp_extension",
    "from torch import _C\n": "_C",
    "import torch\ntorch.jit.script(f)\n": "jit",
    "x = ().__class__\n": "__class__",
    "x = f.__globals__\n": "__globals__",
    "x = __builtins__\n": "__builtins__",
    "x = e.__traceback__\n": "__traceback__",
    "x = tb.tb_frame.f_back\n": "f_",
    "'{0.__class__}'.format(1)\n": "__class__",
    "'{0.f_globals}'.format(1)\n": "f_globals",
    "match x:\n    case object(__class__=c):\n        pass\n": "__class__",
    "from . import sibling\n": "relative",
    "t.numpy().tofile('f')\n": "tofile",
    "import operator\noperator.attrgetter('x')\n": "attrgetter",
}


@pytest.mark.parametrize("code", ALLOWED)
def test_normal_code_passes_the_static_check(code):
    ast_check.check(code)


@pytest.mark.parametrize("code,needle", REFUSED.items())
def test_static_check_refuses(code, needle):
    with pytest.raises(ast_check.Refusal) as refusal:
        ast_check.check(code)
    assert needle in refusal.value.message
    assert refusal.value.line >= 1


def test_unparsable_code_is_left_to_the_tracer():
    ast_check.check("def (:\n")  # the tracer reports it as a syntax error


def test_guarded_import_and_getattr():
    b = restricted_builtins()
    assert b["__import__"]("math").pi > 3
    assert b["__import__"]("torch.nn", None, None, ("functional",)).functional
    for name, fromlist in (("os", ()), ("torch", ("hub",)), ("torch.utils", ("cpp_extension",)), ("pickle", ())):
        with pytest.raises(Abort) as exc:
            b["__import__"](name, None, None, fromlist)
        assert exc.value.kind == "refused"
    import torch

    assert b["getattr"](torch, "ones")(1).item() == 1.0
    assert b["getattr"](torch, "nope", 5) == 5
    for name in ("__globals__", "__class__", "os", "_C", "__weird__"):
        with pytest.raises(Abort):
            b["getattr"](torch, name)
    for name in ("open", "compile", "vars", "globals", "input", "breakpoint", "exit"):
        with pytest.raises(Abort) as exc:
            b[name]("x")
        assert exc.value.kind == "refused" and name in exc.value.message
    assert b["ValueError"] is ValueError and b["print"] is print


def test_policy_allows_user_facing_torch_only():
    assert policy.module_reason("torch.nn.modules.linear") is None
    assert policy.module_reason("torch.distributions.normal") is None
    assert "not allowed" in policy.module_reason("torch.distributed.rpc")
    assert "not allowed" in policy.module_reason("subprocess")


def test_seccomp_filter_is_well_formed():
    prog = seccomp.build_filter(1234)
    assert len(prog) < 4096  # the kernel's limit
    for i, (code, jt, jf, _k) in enumerate(prog):
        if code & 0x07 == 0x05:  # BPF_JMP
            assert i + 1 + jt < len(prog) and i + 1 + jf < len(prog), f"jump out of range at {i}"
    assert prog[-1] == (seccomp.RET, 0, 0, seccomp.RET_ALLOW)


def test_eval_and_exec_run_strings_under_the_same_guards():
    b = restricted_builtins()
    g = {"k": 3}
    assert b["eval"]("k * 2", g) == 6 and g["__builtins__"] is b
    b["exec"]("import math\nr = math.sqrt(k)", g)
    assert g["r"] == 3 ** 0.5
    b["exec"]("import time\nt = time.strptime('2020', '%Y').tm_year", g)  # C code importing _strptime
    assert g["t"] == 2020
    own = {"__builtins__": {"open": print}}
    with pytest.raises(Abort) as exc:
        b["exec"]("open('/etc/passwd')", own)
    assert exc.value.kind == "refused" and own["__builtins__"] is b
    for code in ("import os", "().__class__", "getattr(print, '__se' + 'lf__')", "__import__('os')"):
        with pytest.raises(Abort) as exc:
            b["exec"](code, {})
        assert exc.value.kind == "refused", code
    class Sticky(dict):
        def __setitem__(self, key, value):  # would keep __builtins__ out, so exec put the real ones in
            pass

    with pytest.raises(Abort, match="plain dict"):
        b["exec"]("x = 1", Sticky())
    with pytest.raises(Abort, match="strings only"):
        b["exec"](compile("1", "f", "exec"), {})


def test_eval_called_back_from_library_code_gets_a_fresh_namespace():
    secret = "a library frame's local"  # noqa: F841 - what eval must not see from a non-program caller
    with pytest.raises(NameError):
        restricted_builtins()["eval"]("secret")


def test_policy_allows_the_relaxed_modules():
    for name in ("torch.profiler", "torch.utils.checkpoint", "torch.autograd.forward_ad", "torch.func",
                 "torch.autograd.profiler"):
        assert policy.module_reason(name) is None, name
    assert "TorchScript" in policy.module_reason("torch.jit")
