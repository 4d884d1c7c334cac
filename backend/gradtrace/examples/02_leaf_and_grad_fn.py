# title: Leaf tensors, grad_fn and a mean
# description: x is a leaf you created with requires_grad=True; every result computed from it remembers the operation that made it in grad_fn. out is the mean of 3·(x+2)², so backward gives x.grad = 4.5 everywhere.
import torch

x = torch.ones(2, 2, requires_grad=True)
print(x)

y = x + 2
print(y)
print(y.grad_fn)

z = y * y * 3
out = z.mean()
print(z, out)

print(x.is_leaf, y.is_leaf)

out.backward()
print(x.grad)
