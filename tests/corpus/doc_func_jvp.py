# Source: torch.func.jvp docstring
#   https://docs.pytorch.org/docs/stable/generated/torch.func.jvp.html
#   https://github.com/pytorch/pytorch/blob/main/torch/_functorch/eager_transforms.py
# License: BSD-3-Clause (pytorch/pytorch documentation and docstrings). Copyright (c) 2016-, PyTorch contributors.
# Changes: the doctest made a program: `>>> `/`... ` prompts and xdoctest directives dropped, `import torch`
#   (and the function's import) added, and each bare expression whose value the doctest shows is wrapped in print().
import torch
from torch.func import jvp

x = torch.randn([])
f = lambda x: x * torch.tensor([1., 2., 3])
value, grad = jvp(f, (x,), (torch.tensor(1.),))
assert torch.allclose(value, f(x))
assert torch.allclose(grad, torch.tensor([1., 2, 3]))

def f(x, y):
    return x * y
x, y = torch.randn(3), torch.randn(3)
_, output = jvp(f, (x, y), (torch.ones(3), torch.ones(3)))
assert torch.allclose(output, x + y)
print(output)
