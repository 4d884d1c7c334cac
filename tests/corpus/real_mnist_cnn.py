# Source: pytorch/examples, mnist/main.py (Net with two convolutions, dropout, log_softmax; train loop with Adadelta)
#   https://github.com/pytorch/examples/blob/main/mnist/main.py
# License: BSD-3-Clause (pytorch/examples). Copyright (c) 2017, PyTorch contributors.
# Changes: random 28x28 images and labels instead of the MNIST download; smaller channels (4, 8) and hidden layer
#   (16); two training batches of 4, one test batch; no argparse, DataLoader, scheduler or checkpoint saving.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 8, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(1152, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


torch.manual_seed(1)
model = Net()
optimizer = optim.Adadelta(model.parameters(), lr=1.0)
train_loader = [(torch.randn(4, 1, 28, 28), torch.randint(0, 10, (4,))) for _ in range(2)]

model.train()
for batch_idx, (data, target) in enumerate(train_loader):
    optimizer.zero_grad()
    output = model(data)
    loss = F.nll_loss(output, target)
    loss.backward()
    optimizer.step()
    print('Train batch {}: loss {:.6f}'.format(batch_idx, loss.item()))

model.eval()
test_loss = 0
correct = 0
with torch.no_grad():
    data, target = torch.randn(4, 1, 28, 28), torch.randint(0, 10, (4,))
    output = model(data)
    test_loss += F.nll_loss(output, target, reduction='sum').item()
    pred = output.argmax(dim=1, keepdim=True)
    correct += pred.eq(target.view_as(pred)).sum().item()
print('Test set: Average loss: {:.4f}, Accuracy: {}/4'.format(test_loss / 4, correct))
