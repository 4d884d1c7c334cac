# title: torch.no_grad and detach: stop tracking
# description: Inside a with torch.no_grad() block nothing is recorded: the result has no grad_fn and does not require grad. detach() gives the same kind of tensor outside the block. Useful when you only evaluate a model.
import torch

x = torch.ones(5)
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)

z = torch.matmul(x, w) + b
print(z.requires_grad)      # True

with torch.no_grad():
    z = torch.matmul(x, w) + b
print(z.requires_grad)      # False

z = torch.matmul(x, w) + b
z_det = z.detach()
print(z_det.requires_grad)  # False

print((w ** 2).requires_grad)
with torch.no_grad():
    print((w ** 2).requires_grad)
