# Source: PyTorch docs, Autograd mechanics, "requires_grad"
#   https://docs.pytorch.org/docs/stable/notes/autograd.html
#   https://github.com/pytorch/pytorch/blob/main/docs/source/notes/autograd.rst
# License: BSD-3-Clause (pytorch/pytorch documentation and docstrings). Copyright (c) 2016-, PyTorch contributors.
# Changes: the doctest made a program: `>>> `/`... ` prompts and xdoctest directives dropped, `import torch`
#   (and the function's import) added, and each bare expression whose value the doctest shows is wrapped in print().
import torch

x = torch.randn(5, 5)  # requires_grad=False by default
y = torch.randn(5, 5)  # requires_grad=False by default
z = torch.randn((5, 5), requires_grad=True)
a = x + y
print(a.requires_grad)
b = a + z
print(b.requires_grad)
