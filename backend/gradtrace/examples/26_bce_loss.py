# title: A one-layer network with a loss
# description: z = x·w + b is a tiny layer with weights w and bias b; binary_cross_entropy_with_logits compares z with the target y. loss.backward() fills w.grad and b.grad, the directions a training step would move them.
import torch

x = torch.ones(5)     # input
y = torch.zeros(3)    # expected output
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w) + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)

print(f"Gradient function for z = {z.grad_fn}")
print(f"Gradient function for loss = {loss.grad_fn}")

loss.backward()
print(w.grad)
print(b.grad)
