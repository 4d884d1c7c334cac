# Source: PyTorch tutorials, "Jacobians, Hessians, hvp, vhp, and more" (Computing Hessian-vector products)
#   https://docs.pytorch.org/tutorials/intermediate/jacobians_hessians.html
#   https://github.com/pytorch/tutorials/blob/main/intermediate_source/jacobians_hessians.py
# License: BSD-3-Clause (pytorch/tutorials). Copyright (c) 2017-, PyTorch contributors.
# Changes: the tutorial's last section as its own program, with the tutorial's `import torch` and
#   `_ = torch.manual_seed(0)`; prose comments shortened; code lines unchanged.
import torch
_ = torch.manual_seed(0)

from torch.func import jvp, grad, vjp

def hvp(f, primals, tangents):
  return jvp(grad(f), primals, tangents)[1]

def f(x):
  return x.sin().sum()

x = torch.randn(2048)
tangent = torch.randn(2048)

result = hvp(f, (x,), (tangent,))

def hvp_revrev(f, primals, tangents):
  _, vjp_fn = vjp(grad(f), *primals)
  return vjp_fn(*tangents)

result_hvp_revrev = hvp_revrev(f, (x,), (tangent,))
assert torch.allclose(result, result_hvp_revrev[0])
