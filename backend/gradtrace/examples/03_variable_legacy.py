# title: The old Variable wrapper: data, grad and grad_fn
# description: Old PyTorch code wraps tensors in Variable; today Variable(t, requires_grad=True) simply returns a tensor that requires grad. Look at .data, .grad and .grad_fn before and after backward: out = sum((a+2)²) gives a.grad = 2·(a+2) = 6.
import torch
from torch.autograd import Variable

a = torch.ones(2, 2)
a = Variable(a, requires_grad=True)

print(a.data)
print(a.grad)     # None: no backward has run yet
print(a.grad_fn)  # None: a was made by you, not by an operation

b = a + 2
c = b ** 2
out = c.sum()
print(out)

out.backward()

print(a.grad)     # 6 everywhere
print(b.grad_fn)  # AddBackward0
print(c.grad_fn)  # PowBackward0
print(out.grad_fn)  # SumBackward0
