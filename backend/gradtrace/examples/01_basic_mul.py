# title: c = a * b: gradients of a product
# description: Two leaf tensors, a product, a square and a sum. Backward fills a.grad = 2·c·b and b.grad = 2·c·a through the chain rule.
import torch

a = torch.tensor((1., 2., 3.), requires_grad=True)
b = torch.tensor((2., 4., 6.), requires_grad=True)
c = a * b
d = c ** 2
e = torch.sum(d)
e.backward()

print(a.grad, b.grad)
print(c.grad_fn, d.grad_fn, e.grad_fn)
