# Source: torch.autograd.graph.Node.register_hook and register_prehook docstrings
#   https://docs.pytorch.org/docs/stable/generated/torch.autograd.graph.Node.register_hook.html
#   https://github.com/pytorch/pytorch/blob/main/torch/autograd/graph.py
# License: BSD-3-Clause (pytorch/pytorch documentation and docstrings). Copyright (c) 2016-, PyTorch contributors.
# Changes: the doctest made a program: `>>> `/`... ` prompts and xdoctest directives dropped, `import torch`
#   (and the function's import) added, and each bare expression whose value the doctest shows is wrapped in print().
#   The two docstrings are joined in order (the second starts again from `a`).
import torch

a = torch.tensor([0., 0., 0.], requires_grad=True)
b = a.clone()
assert isinstance(b.grad_fn, torch.autograd.graph.Node)
handle = b.grad_fn.register_hook(lambda gI, gO: (gO[0] * 2,))
b.sum().backward(retain_graph=True)
print(a.grad)
handle.remove() # Removes the hook
a.grad = None
b.sum().backward(retain_graph=True)
print(a.grad)

a = torch.tensor([0., 0., 0.], requires_grad=True)
b = a.clone()
assert isinstance(b.grad_fn, torch.autograd.graph.Node)
handle = b.grad_fn.register_prehook(lambda gI: (gI[0] * 2,))
b.sum().backward(retain_graph=True)
print(a.grad)
handle.remove()
a.grad = None
b.sum().backward(retain_graph=True)
print(a.grad)
