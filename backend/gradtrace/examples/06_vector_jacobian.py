# title: backward with a gradient vector (vector-Jacobian product)
# description: z = 3x² is a vector, not a number, so backward needs a vector to weigh its parts. PyTorch computes vᵀ·J: with v = (0.1, 1, 10) and dz/dx = 6, x.grad is (0.6, 6, 60).
import torch
from torch.autograd import Variable

x = torch.ones(3)
x = Variable(x, requires_grad=True)

y = x ** 2
z = y * 3
print(z)

grad = torch.Tensor([0.1, 1, 10])
z.backward(grad)

print(x.data)
print(x.grad)     # 0.6, 6, 60
print(x.grad_fn)  # None: x is a leaf
