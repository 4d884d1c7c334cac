# Source: torch.autograd.forward_ad docs (make_dual / dual_level / unpack_dual usage)
#   https://docs.pytorch.org/docs/stable/autograd.html#forward-mode-automatic-differentiation
#   https://github.com/pytorch/pytorch/blob/main/torch/autograd/forward_ad.py
# License: BSD-3-Clause (pytorch/pytorch documentation and docstrings). Copyright (c) 2016-, PyTorch contributors.
# Changes: the docs' usage sketch made a program: `import torch`, the import of the three functions, and concrete
#   `x`, `v` and `f` (left abstract in the docs) added; prints of the primal and tangent added.
import torch
from torch.autograd.forward_ad import dual_level, make_dual, unpack_dual

x = torch.tensor([0.5, 1.0, 2.0])
v = torch.tensor([1.0, 0.0, 1.0])

def f(t):
    return t.sin() * t

with dual_level():
    inp = make_dual(x, v)
    out = f(inp)
    y, jvp = unpack_dual(out)

print(y)
print(jvp)
