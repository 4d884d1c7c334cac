# title: Accumulation and .grad.zero_()
# description: Three backward passes through the same graph, with a gradient vector of ones. The second call adds onto the first; after inp.grad.zero_() the third call gives the first answer again. This is why training loops zero gradients every step.
import torch

inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()

out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\n{inp.grad}")

out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nSecond call\n{inp.grad}")

inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nCall after zeroing gradients\n{inp.grad}")
