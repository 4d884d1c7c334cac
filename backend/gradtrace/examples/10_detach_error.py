# title: detach cuts the graph (and backward fails)
# description: one.detach() is a copy with no history: no grad_fn and requires_grad False. Rebinding c to it throws away the path to a and b, so nothing in e requires grad and e.backward() raises a RuntimeError. This example fails on purpose.
import torch

one = torch.tensor((1., 1., 1.), requires_grad=True)
a = torch.tensor((1., 2., 3.), requires_grad=True)
b = torch.tensor((2., 4., 6.), requires_grad=True)
c = a * b
c = one.detach()
print(c.requires_grad, c.grad_fn)

d = c ** 2
e = torch.sum(d)
e.backward()   # RuntimeError: element 0 of tensors does not require grad
