# title: create_graph=True: the derivative of a derivative
# description: With create_graph=True the backward pass is itself recorded, so the first derivative dy/dx = 3x² has a grad_fn and can be differentiated again: d²y/dx² = 6x.
import torch

x = torch.tensor(2.0, requires_grad=True)
y = x ** 3

dy_dx, = torch.autograd.grad(y, x, create_graph=True)
print(dy_dx)          # 3·2² = 12
print(dy_dx.grad_fn)  # the backward pass made a graph of its own

d2y_dx2, = torch.autograd.grad(dy_dx, x, retain_graph=True)
print(d2y_dx2)        # 6·2 = 12

# The same with backward (the graph was kept): x.grad receives the second derivative.
dy_dx.backward()
print(x.grad)
