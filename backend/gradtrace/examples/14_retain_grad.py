# title: retain_grad: keep the gradient of an intermediate result
# description: Only leaves keep .grad after backward. Calling retain_grad() on an intermediate tensor (d, price) asks PyTorch to keep its gradient too.
import torch

a = torch.tensor((1., 2., 3.), requires_grad=True)
b = torch.tensor((2., 4., 6.), requires_grad=True)
c = a * b
d = c ** 2
d.retain_grad()
print(d.grad)      # None: no backward yet
e = torch.sum(d)
e.backward()
print(d.grad)      # ones: de/dd

# Shopping for apples: how does the bill change with each input?
apple = torch.tensor([100.], requires_grad=True)
num = torch.tensor([2.], requires_grad=True)
ctax = torch.tensor([1.1], requires_grad=True)

price = apple * num
price.retain_grad()
result = price * ctax
result.retain_grad()

result.backward(torch.ones(1))
print(apple.grad, num.grad, ctax.grad, price.grad, result.grad)
