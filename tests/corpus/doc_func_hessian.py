# Source: torch.func.hessian docstring
#   https://docs.pytorch.org/docs/stable/generated/torch.func.hessian.html
#   https://github.com/pytorch/pytorch/blob/main/torch/_functorch/eager_transforms.py
# License: BSD-3-Clause (pytorch/pytorch documentation and docstrings). Copyright (c) 2016-, PyTorch contributors.
# Changes: the doctest made a program: `>>> `/`... ` prompts and xdoctest directives dropped, `import torch`
#   (and the function's import) added, and each bare expression whose value the doctest shows is wrapped in print().
#   A print of the result added.
import torch
from torch.func import hessian

def f(x):
    return x.sin().sum()

x = torch.randn(5)
hess = hessian(f)(x)  # equivalent to jacfwd(jacrev(f))(x)
assert torch.allclose(hess, torch.diag(-x.sin()))
print(hess)
