# Source: torch.Tensor.register_hook docstring (the official example)
#   https://docs.pytorch.org/docs/stable/generated/torch.Tensor.register_hook.html
#   https://github.com/pytorch/pytorch/blob/main/torch/_tensor.py
# License: BSD-3-Clause (pytorch/pytorch documentation and docstrings). Copyright (c) 2016-, PyTorch contributors.
# Changes: the doctest made a program: `>>> `/`... ` prompts dropped, `import torch` added, and each bare
#   expression whose value the doctest shows is wrapped in print().
import torch

v = torch.tensor([0., 0., 0.], requires_grad=True)
h = v.register_hook(lambda grad: grad * 2)  # double the gradient
v.backward(torch.tensor([1., 2., 3.]))
print(v.grad)
h.remove()  # removes the hook
