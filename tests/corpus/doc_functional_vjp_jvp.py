# Source: torch.autograd.functional.vjp and jvp docstrings
#   https://docs.pytorch.org/docs/stable/autograd.html#functional-higher-level-api
#   https://github.com/pytorch/pytorch/blob/main/torch/autograd/functional.py
# License: BSD-3-Clause (pytorch/pytorch documentation and docstrings). Copyright (c) 2016-, PyTorch contributors.
# Changes: the doctest made a program: `>>> `/`... ` prompts and xdoctest directives dropped, `import torch`
#   (and the function's import) added, and each bare expression whose value the doctest shows is wrapped in print().
#   The two docstrings are joined in order.
import torch
from torch.autograd.functional import vjp, jvp

def exp_reducer(x):
    return x.exp().sum(dim=1)
inputs = torch.rand(4, 4)
v = torch.ones(4)
print(vjp(exp_reducer, inputs, v))

print(vjp(exp_reducer, inputs, v, create_graph=True))

def adder(x, y):
    return 2 * x + 3 * y
inputs = (torch.rand(2), torch.rand(2))
v = torch.ones(2)
print(vjp(adder, inputs, v))

def exp_reducer(x):
    return x.exp().sum(dim=1)
inputs = torch.rand(4, 4)
v = torch.ones(4, 4)
print(jvp(exp_reducer, inputs, v))

print(jvp(exp_reducer, inputs, v, create_graph=True))

def adder(x, y):
    return 2 * x + 3 * y
inputs = (torch.rand(2), torch.rand(2))
v = (torch.ones(2), torch.ones(2))
print(jvp(adder, inputs, v))
