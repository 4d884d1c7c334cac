# Source: PyTorch docs, Extending PyTorch, MulConstant and its set_materialize_grads(False) version
#   https://docs.pytorch.org/docs/stable/notes/extending.html#extending-torch-autograd
#   https://github.com/pytorch/pytorch/blob/main/docs/source/notes/extending.rst
# License: BSD-3-Clause (pytorch/pytorch documentation and docstrings). Copyright (c) 2016-, PyTorch contributors.
# Changes: the note's two MulConstant classes made one program (the second renamed MulConstantNoMaterialize so
#   both exist); imports added; the lines after the classes (apply each, backward, print) added.
import torch
from torch.autograd import Function

class MulConstant(Function):
    @staticmethod
    def forward(ctx, tensor, constant):
        # ctx is a context object that can be used to stash information
        # for backward computation
        ctx.constant = constant
        return tensor * constant

    @staticmethod
    def backward(ctx, grad_output):
        # We return as many input gradients as there were arguments.
        # Gradients of non-Tensor arguments to forward must be None.
        return grad_output * ctx.constant, None

class MulConstantNoMaterialize(Function):
    @staticmethod
    def forward(ctx, tensor, constant):
        ctx.set_materialize_grads(False)
        ctx.constant = constant
        return tensor * constant

    @staticmethod
    def backward(ctx, grad_output):
        # Here we must handle None grad_output tensor. In this case we
        # can skip unnecessary computations and just return None.
        if grad_output is None:
            return None, None

        # We return as many input gradients as there were arguments.
        # Gradients of non-Tensor arguments to forward must be None.
        return grad_output * ctx.constant, None

x = torch.randn(4, requires_grad=True)
y = MulConstant.apply(x, 3.0)
z = MulConstantNoMaterialize.apply(x, -2.0)
(y.sum() + z.sum()).backward()
print(x.grad)
