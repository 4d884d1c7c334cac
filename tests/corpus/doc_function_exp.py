# Source: torch.autograd.Function docstring (the Exp example)
#   https://docs.pytorch.org/docs/stable/autograd.html#torch.autograd.Function
#   https://github.com/pytorch/pytorch/blob/main/torch/autograd/function.py
# License: BSD-3-Clause (pytorch/pytorch documentation and docstrings). Copyright (c) 2016-, PyTorch contributors.
# Changes: the docstring's class made a program: prompts dropped, `import torch` and
#   `from torch.autograd import Function` added, and `input` (left undefined in the docstring) made with
#   `input = torch.randn(3, requires_grad=True)`; a backward call and a print of the gradient added.
import torch
from torch.autograd import Function

class Exp(Function):
    @staticmethod
    def forward(ctx, i):
        result = i.exp()
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        result, = ctx.saved_tensors
        return grad_output * result

input = torch.randn(3, requires_grad=True)
# Use it by calling the apply method:
output = Exp.apply(input)
output.sum().backward()
print(input.grad)
