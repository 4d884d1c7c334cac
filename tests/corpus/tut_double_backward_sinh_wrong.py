# Source: PyTorch tutorials, "Double Backward with Custom Functions"
#   https://docs.pytorch.org/tutorials/intermediate/custom_function_double_backward_tutorial.html
#   https://github.com/pytorch/tutorials/blob/main/intermediate_source/custom_function_double_backward_tutorial.py
# License: BSD-3-Clause (pytorch/tutorials). Copyright (c) 2017-, PyTorch contributors.
# Changes: one section of the tutorial ("what NOT to do") as its own program, with the tutorial's
# `import torch` and the line that made `x` in the section before; the `torchviz.make_dot(...)` call is
# removed (torchviz renders an image with graphviz, not installed here).
import torch

x = torch.rand(3, 3, requires_grad=True, dtype=torch.double)

class Sinh(torch.autograd.Function):
    # This is an example of what NOT to do!
    @staticmethod
    def forward(ctx, x):
        expx = torch.exp(x)
        expnegx = torch.exp(-x)
        ctx.expx = expx
        ctx.expnegx = expnegx
        return (expx - expnegx) / 2

    @staticmethod
    def backward(ctx, grad_out):
        expx = ctx.expx
        expnegx = ctx.expnegx
        grad_input = grad_out * (expx + expnegx) / 2
        return grad_input

out = Sinh.apply(x)
grad_x, = torch.autograd.grad(out.sum(), x, create_graph=True)
