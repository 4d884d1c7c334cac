# title: Changing a tensor in place under no_grad
# description: d.mul_(2) inside torch.no_grad() doubles d's values but is not recorded, so d keeps grad_fn PowBackward0. PowBackward0 saved c, not d, so the gradients are the same as without the doubling: a.grad = 2·c·b.
import torch

a = torch.tensor((1., 2., 3.), requires_grad=True)
b = torch.tensor((2., 4., 6.), requires_grad=True)
c = a * b
d = c ** 2
with torch.no_grad():
    d.mul_(2)
print(d)
print(d.grad_fn)   # still PowBackward0

e = torch.sum(d)
e.backward()
print(a.grad, b.grad)
