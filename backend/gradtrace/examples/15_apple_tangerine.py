# title: Apples and tangerines: a branching graph
# description: Shopping: two products meet in a sum and a tax multiplies the total. retain_grad() keeps the gradients of the intermediate prices; watch the engine's real order through the branches.
import torch

apple = torch.tensor([100.], requires_grad=True)
tangerine = torch.tensor([150.], requires_grad=True)
num_apple = torch.tensor([2.], requires_grad=True)
num_tangerine = torch.tensor([3.], requires_grad=True)
ctax = torch.tensor([1.1], requires_grad=True)

apple_price = apple * num_apple
apple_price.retain_grad()
tangerine_price = tangerine * num_tangerine
tangerine_price.retain_grad()
price = apple_price + tangerine_price
price.retain_grad()
result = price * ctax
result.retain_grad()

result.backward(torch.ones(1))

tensors = {'apple': apple, 'tangerine': tangerine, 'num_apple': num_apple,
           'num_tangerine': num_tangerine, 'ctax': ctax, 'apple_price': apple_price,
           'tangerine_price': tangerine_price, 'price': price, 'result': result}
for name, t in tensors.items():
    print(f"{name:>15s}.grad = {t.grad.item():.2f}")
