# title: Custom Add2 and Mul2 with save_for_backward
# description: Add2 passes the gradient on unchanged to both inputs; Mul2 saves its inputs with ctx.save_for_backward and sends each input the other one, so x.grad equals y2 and y2.grad equals x.
import torch

class Add2(torch.autograd.Function):
    @staticmethod
    def forward(ctx, i, j):
        result = i + j
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output

class Mul2(torch.autograd.Function):
    @staticmethod
    def forward(ctx, i, j):
        result = i * j
        ctx.save_for_backward(i, j)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, y = ctx.saved_tensors
        return y * grad_output, x * grad_output

x = torch.randn(5, requires_grad=True)
y = torch.randn(5)
y2 = y.data
y2.requires_grad = True

t = Add2.apply(x, y2)
print(t.grad_fn)          # Add2Backward
t.backward(torch.ones_like(t))
print(x.grad, y2.grad)    # all ones

x.grad = None
y2.grad = None
t = Mul2.apply(x, y2)
print(t.grad_fn)          # Mul2Backward
t.backward(torch.ones_like(t))
print(x.grad)             # same as y2
print(y2.grad)            # same as x
