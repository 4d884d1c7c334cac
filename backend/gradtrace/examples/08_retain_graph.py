# title: retain_graph: run backward twice and gradients add up
# description: The first backward keeps the graph (retain_graph=True), so a second backward can run through it again. .grad is not replaced but accumulated: a.grad and b.grad end up twice as large.
import torch

a = torch.tensor((1., 2., 3.), requires_grad=True)
b = torch.tensor((2., 4., 6.), requires_grad=True)
c = a * b
d = c ** 2
e = torch.sum(d)

e.backward(retain_graph=True)
print(a.grad, b.grad)

e.backward()
print(a.grad, b.grad)   # doubled
