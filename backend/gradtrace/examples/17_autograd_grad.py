# title: torch.autograd.grad: ask for a gradient directly
# description: Instead of filling .grad, torch.autograd.grad(y, x) returns dy/dx as a new tensor. For y = sum(x³ + 2x) that is 3x² + 2. x.grad stays None.
import torch

x = torch.tensor([1., 2., 3.], requires_grad=True)
y = (x ** 3 + 2 * x).sum()

(dy_dx,) = torch.autograd.grad(y, x)
print(dy_dx)    # 3x² + 2 = 5, 14, 29
print(x.grad)   # None: autograd.grad does not touch .grad
