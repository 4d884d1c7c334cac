# title: A loop that keeps doubling y
# description: The loop rebinds y = y * 2 until its norm passes 1000, so the graph is a chain of MulBackward0 nodes, one per turn. Every turn doubles the gradient: x.grad = 2^k times the vector passed to backward.
import torch

x = torch.randn(3, requires_grad=True)

y = x * 2
while y.data.norm() < 1000:
    y = y * 2

print(y)

gradients = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(gradients)

print(x.grad)
