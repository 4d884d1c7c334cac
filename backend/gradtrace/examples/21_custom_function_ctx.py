# title: A custom autograd Function that keeps inputs on ctx
# description: custom_function multiplies x and y, stores them as ctx attributes and writes its own backward. That backward is deliberately odd: it returns -x·grad for x and -y·grad for y (not the true derivative), and autograd trusts it.
import torch

class custom_function(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, y):
        # store the inputs for backward
        ctx.x = x
        ctx.y = y
        return x * y

    @staticmethod
    def backward(ctx, grad_output):
        print("bp_grad : {}".format(grad_output))
        grad_x = -ctx.x * grad_output
        grad_y = -ctx.y * grad_output
        return grad_x, grad_y

a = torch.tensor((1., 2., 3.), requires_grad=True)
b = torch.tensor((2., 4., 6.), requires_grad=True)
c = custom_function.apply(a, b)
e = torch.sum(c)
e.backward()

print(a.data, b.data)
print(a.grad, b.grad)
print(c.grad_fn)   # custom_functionBackward
print(e.grad_fn)
