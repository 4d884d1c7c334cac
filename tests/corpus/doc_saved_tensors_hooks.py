# Source: torch.autograd.graph.saved_tensors_hooks docstring
#   https://docs.pytorch.org/docs/stable/autograd.html#torch.autograd.graph.saved_tensors_hooks
#   https://github.com/pytorch/pytorch/blob/main/torch/autograd/graph.py
# License: BSD-3-Clause (pytorch/pytorch documentation and docstrings). Copyright (c) 2016-, PyTorch contributors.
# Changes: the doctest made a program: `>>> `/`... ` prompts dropped, `import torch` added, and each bare
#   expression whose value the doctest shows is wrapped in print().
import torch

def pack_hook(x):
    print("Packing", x)
    return x

def unpack_hook(x):
    print("Unpacking", x)
    return x

a = torch.ones(5, requires_grad=True)
b = torch.ones(5, requires_grad=True) * 2
with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
    y = a * b
y.sum().backward()
