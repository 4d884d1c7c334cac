# title: Operations with several outputs: split and max
# description: x.split(2) returns two tensors that share one SplitBackward0 node; x.max(dim=1) returns the largest values and their positions. Only the winners get a gradient from max.
import torch

x = torch.tensor([[1., 5., 2., 0.],
                  [4., 3., 6., 1.]], requires_grad=True)

left, right = x.split(2, dim=1)
print(left.grad_fn, right.grad_fn)   # the same node

values, indices = x.max(dim=1)
print(values, indices)

loss = (left * right).sum() + values.sum()
loss.backward()
print(x.grad)
