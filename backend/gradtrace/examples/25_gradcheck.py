# title: gradcheck: test a hand-written backward
# description: torch.autograd.gradcheck compares a custom Function's backward with small finite differences, in double precision, and returns True when they agree. WrongSigmoid forgets a factor in its backward, and gradcheck catches it.
import torch

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

class WrongSigmoid(Sigmoid):
    @staticmethod
    def backward(ctx, grad_output):
        result, = ctx.saved_tensors
        return grad_output * result   # forgot the (1 - result) factor

x = torch.randn(3, dtype=torch.double, requires_grad=True)
z = Sigmoid.apply(x)
z.sum().backward()
print(x.grad)

print(torch.autograd.gradcheck(Sigmoid.apply, (x,), eps=1e-6, atol=1e-4))
print(torch.autograd.gradcheck(WrongSigmoid.apply, (x,), eps=1e-6, atol=1e-4, raise_exception=False))
