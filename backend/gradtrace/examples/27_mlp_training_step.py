# title: An nn.Module, a loss and one optimizer step
# description: A small two-layer network (nn.Linear, ReLU, nn.Linear) learns to fit four points. The layers' weights are leaf parameters named fc1.weight, fc1.bias, …; zero_grad clears their gradients, backward fills them, and optimizer.step() moves each parameter against its gradient.
import torch
import torch.nn as nn

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 3)
        self.fc2 = nn.Linear(3, 1)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))

model = MLP()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

inputs = torch.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
targets = torch.tensor([[0.], [1.], [1.], [2.]])

for step in range(2):
    optimizer.zero_grad()
    prediction = model(inputs)
    loss = nn.functional.mse_loss(prediction, targets)
    loss.backward()
    optimizer.step()
    print(step, loss.item())

print(model.fc1.weight.grad)
