# Source: micrograd, test/test_engine.py, test_more_ops (the torch side)
#   https://github.com/karpathy/micrograd/blob/master/test/test_engine.py
# License: MIT (karpathy/micrograd). Copyright (c) 2020 Andrej Karpathy.
# Changes: only the PyTorch half of the test function is kept, at top level: the micrograd half (`from micrograd.engine
#   import Value`, micrograd is not installed) and the asserts comparing the two halves are left out; prints of
#   the PyTorch results added so the trace has something to compare. The PyTorch lines are unchanged.
import torch

a = torch.Tensor([-4.0]).double()
b = torch.Tensor([2.0]).double()
a.requires_grad = True
b.requires_grad = True
c = a + b
d = a * b + b**3
c = c + c + 1
c = c + 1 + c + (-a)
d = d + d * 2 + (b + a).relu()
d = d + 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g = g + 10.0 / f
g.backward()
apt, bpt, gpt = a, b, g

print(gpt.data.item())
print(apt.grad.item(), bpt.grad.item())
