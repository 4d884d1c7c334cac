# Source: PyTorch tutorials, "Learn the Basics": "Build the Neural Network" and "Optimizing Model Parameters"
#   (NeuralNetwork with nn.Flatten and a linear_relu_stack Sequential; the train loop)
#   https://docs.pytorch.org/tutorials/beginner/basics/buildmodel_tutorial.html
#   https://github.com/pytorch/tutorials/blob/main/beginner_source/basics/optimization_tutorial.py
# License: BSD-3-Clause (pytorch/tutorials). Copyright (c) 2017-, PyTorch contributors.
# Changes: 512 hidden units -> 16; random 28x28 images and labels (batch 4, two batches) instead of FashionMNIST;
#   the named-parameter listing of the tutorial printed with shapes only; no test loop.
import torch
from torch import nn


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 16),
            nn.ReLU(),
            nn.Linear(16, 16),
            nn.ReLU(),
            nn.Linear(16, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


torch.manual_seed(0)
model = NeuralNetwork()
print(f"Model structure: {model}\n\n")
for name, param in model.named_parameters():
    print(f"Layer: {name} | Size: {param.size()}")

learning_rate = 1e-3
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
dataloader = [(torch.rand(4, 28, 28), torch.randint(0, 10, (4,))) for _ in range(2)]


def train_loop(dataloader, model, loss_fn, optimizer):
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        print(f"loss: {loss.item():>7f}  [{(batch + 1) * len(X):>5d}/8]")


train_loop(dataloader, model, loss_fn, optimizer)
