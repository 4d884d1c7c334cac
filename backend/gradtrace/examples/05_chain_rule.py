# title: The chain rule on z = (x + y)²
# description: x asks for gradients, y does not. backward multiplies the local derivatives along the graph, PowBackward0 then AddBackward0, so x.grad equals 2·(x+y). y gets no gradient.
import torch

x = torch.randn(8, requires_grad=True)
y = torch.randn(8)

t = x + y
z = t ** 2
print(x.grad is None)   # True: nothing computed yet
print(t.grad_fn, z.grad_fn)

z.backward(torch.ones_like(z))

print(x.grad)
print(2 * (x + y))      # the same numbers, worked out by hand
print(y.grad)           # None: y does not require grad
