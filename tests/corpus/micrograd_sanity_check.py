# Source: micrograd, test/test_engine.py, test_sanity_check (the torch side)
#   https://github.com/karpathy/micrograd/blob/master/test/test_engine.py
# License: MIT (karpathy/micrograd). Copyright (c) 2020 Andrej Karpathy.
# Changes: only the PyTorch half of the test function is kept, at top level: the micrograd half (`from micrograd.engine
#   import Value`, micrograd is not installed) and the asserts comparing the two halves are left out; prints of
#   the PyTorch results added so the trace has something to compare. The PyTorch lines are unchanged.
import torch

x = torch.Tensor([-4.0]).double()
x.requires_grad = True
z = 2 * x + 2 + x
q = z.relu() + z * x
h = (z * z).relu()
y = h + q + q * x
y.backward()
xpt, ypt = x, y

print(ypt.data.item())
print(xpt.grad.item())
