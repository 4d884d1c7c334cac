# title: An affine layer by hand: x @ W + b, then with Mm2
# description: For result = x @ W + b with a gradient of ones, x.grad = Wx.grad @ Wᵀ, W.grad = xᵀ @ Wx.grad and b.grad sums Wx.grad over the batch. A custom Mm2 and Add2 rebuild the same layer and give the same gradients.
import torch

class Add2(torch.autograd.Function):
    @staticmethod
    def forward(ctx, i, j):
        return i + j

    @staticmethod
    def backward(ctx, grad_output):
        # j (the bias) was broadcast over the batch: sum its gradient back to its shape
        return grad_output, grad_output.sum(dim=0)

class Mm2(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, W):
        ctx.save_for_backward(x, W)
        return x @ W

    @staticmethod
    def backward(ctx, grad_output):
        x, W = ctx.saved_tensors
        return grad_output @ W.T, x.T @ grad_output

x = torch.randn((4, 6), requires_grad=True)
W = torch.randn((6, 3), requires_grad=True)
b = torch.randn((3,), requires_grad=True)

Wx = x @ W
result = Wx + b
print(Wx.grad_fn, result.grad_fn)

Wx.retain_grad()
result.retain_grad()
result.backward(torch.ones_like(result))

print(torch.allclose(Wx.grad @ W.T, x.grad))
print(torch.allclose(x.T @ Wx.grad, W.grad))
print(b.grad)   # 4 = the batch size, for each output

x.grad = None
W.grad = None
b.grad = None

Wx = Mm2.apply(x, W)
result = Add2.apply(Wx, b)
result.backward(torch.ones_like(result))
print(x.grad)
print(W.grad)
print(b.grad)
