# Source: torch.no_grad docstring
#   https://docs.pytorch.org/docs/stable/generated/torch.no_grad.html
#   https://github.com/pytorch/pytorch/blob/main/torch/autograd/grad_mode.py
# License: BSD-3-Clause (pytorch/pytorch documentation and docstrings). Copyright (c) 2016-, PyTorch contributors.
# Changes: the doctest made a program: `>>> `/`... ` prompts and xdoctest directives dropped, `import torch`
#   (and the function's import) added, and each bare expression whose value the doctest shows is wrapped in print().
import torch

x = torch.tensor([1.], requires_grad=True)
with torch.no_grad():
    y = x * 2
print(y.requires_grad)
@torch.no_grad()
def doubler(x):
    return x * 2
z = doubler(x)
print(z.requires_grad)
@torch.no_grad()
def tripler(x):
    return x * 3
z = tripler(x)
print(z.requires_grad)
# factory function exception
with torch.no_grad():
    a = torch.nn.Parameter(torch.rand(10))
print(a.requires_grad)
