# title: ReLU and sigmoid, built-in and hand-made
# description: torch.relu lets the gradient through only where x > 0. Relu2 does the same by saving a mask; Sigmoid saves its result s and sends back s·(1-s). At the end numpy computes the same sigmoid on a tensor that needs no gradient.
import numpy as np
import torch

class Relu2(torch.autograd.Function):
    @staticmethod
    def forward(ctx, i):
        x = i.clone()
        ctx.save_for_backward(x < 0)
        x[x < 0] = 0
        return x

    @staticmethod
    def backward(ctx, grad_output):
        cond, = ctx.saved_tensors
        grad_output = grad_output.clone()
        grad_output[cond] = 0
        return grad_output

class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, i):
        result = 1 / (1 + torch.exp(-i))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        result, = ctx.saved_tensors
        return grad_output * result * (1 - result)

x = torch.randn(6, requires_grad=True)

z = torch.relu(x)
z.backward(torch.ones_like(z))
print(x.grad)             # 1 where x > 0, else 0

x.grad = None
z = Relu2.apply(x)
z.backward(torch.ones_like(z))
print(x.grad)             # the same mask

x.grad = None
z = Sigmoid.apply(x)
z.backward(torch.ones_like(z))
print(x.grad)             # equals z * (1 - z)
print(z * (1 - z))

# numpy works on tensors that do not require grad
s = 1 / (1 + np.exp(-x.detach()))
print(s)
