# title: Switch on gradients later with requires_grad_()
# description: a is computed without gradients, so it has no history. a.requires_grad_(True) turns it into a leaf that asks for gradients from now on; b = sum(a·a) then gives a.grad = 2a.
import torch

a = torch.randn(2, 2)
a = ((a * 3) / (a - 1))
print(a.requires_grad)   # False

a.requires_grad_(True)
print(a.requires_grad)   # True
print(a.is_leaf)         # True: a has no grad_fn

b = (a * a).sum()
print(b.grad_fn)

b.backward()
print(a.grad)            # equals 2 * a
