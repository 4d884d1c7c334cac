# title: Writing into a slice: views and CopySlices
# description: row = y[0] is a view that shares memory with y. Changing it in place (row.mul_(10)) changes y, and autograd rewrites y's history into a CopySlices node so the gradient through the changed row is multiplied by 10.
import torch

x = torch.ones(2, 3, requires_grad=True)
y = x * 2            # y is not a leaf, so it may be changed in place
row = y[0]           # a view of y's first row
row.mul_(10)         # changes y too
print(y)
print(y.grad_fn)     # CopySlices

loss = y.sum()
loss.backward()
print(x.grad)        # 20 for the first row, 2 for the second
