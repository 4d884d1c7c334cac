# title: A hook that changes a gradient
# description: d.register_hook(modify_grad) runs modify_grad on d's gradient during backward. It prints the gradient and returns its negative, so everything upstream of d, and a.grad and b.grad, flips sign.
import torch

def modify_grad(grad):
    print(grad)
    return -grad

a = torch.tensor((1., 2., 3.), requires_grad=True)
b = torch.tensor((2., 4., 6.), requires_grad=True)
c = a * b
d = c ** 2
d.register_hook(modify_grad)
e = torch.sum(d)
e.backward()

print(a.grad, b.grad)   # negative of the usual 2·c·b and 2·c·a
