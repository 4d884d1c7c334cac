# Source: torch.func.jacfwd docstring
#   https://docs.pytorch.org/docs/stable/generated/torch.func.jacfwd.html
#   https://github.com/pytorch/pytorch/blob/main/torch/_functorch/eager_transforms.py
# License: BSD-3-Clause (pytorch/pytorch documentation and docstrings). Copyright (c) 2016-, PyTorch contributors.
# Changes: the doctest made a program: `>>> `/`... ` prompts and xdoctest directives dropped, `import torch`
#   (and the function's import) added, and each bare expression whose value the doctest shows is wrapped in print().
import torch
from torch.func import jacfwd

x = torch.randn(5)
jacobian = jacfwd(torch.sin)(x)
expected = torch.diag(torch.cos(x))
assert torch.allclose(jacobian, expected)

from torch.func import jacfwd, vmap
x = torch.randn(64, 5)
jacobian = vmap(jacfwd(torch.sin))(x)
assert jacobian.shape == (64, 5, 5)

from torch.func import jacfwd
def f(x):
    return x.sin(), x.cos()

x = torch.randn(5)
jacobian = jacfwd(f, argnums=0)(x)
print(jacobian)

from torch.func import jacfwd, jacrev
def f(x):
    return x.sin().sum()

x = torch.randn(5)
hessian = jacfwd(jacrev(f))(x)
assert torch.allclose(hessian, torch.diag(-x.sin()))
