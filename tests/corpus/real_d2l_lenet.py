# Source: Dive into Deep Learning, 7.6 "Convolutional Neural Networks (LeNet)" (the nn.Sequential LeNet with
#   sigmoid activations and average pooling; layer-by-layer shapes; one training step)
#   https://d2l.ai/chapter_convolutional-neural-networks/lenet.html
#   https://github.com/d2l-ai/d2l-en/blob/master/chapter_convolutional-neural-networks/lenet.md
# License: MIT-0 (code) (d2l-ai/d2l-en). Copyright (c) 2019- the d2l.ai authors.
# Changes: `layer.__class__.__name__` written `type(layer).__name__` (gradtrace refuses `__class__`); the d2l library's Classifier/Trainer replaced by plain torch (Xavier init, SGD, cross-entropy); a random
#   batch of 2 Fashion-MNIST-sized images instead of the dataset; one step.
import torch
from torch import nn


def init_cnn(module):
    """Initialize weights for CNNs."""
    if type(module) == nn.Linear or type(module) == nn.Conv2d:
        nn.init.xavier_uniform_(module.weight)


net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Flatten(),
    nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
    nn.Linear(120, 84), nn.Sigmoid(),
    nn.Linear(84, 10))
net.apply(init_cnn)

X = torch.randn(1, 1, 28, 28)
for layer in net:
    X = layer(X)
    print(type(layer).__name__, 'output shape:\t', X.shape)

optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
X = torch.randn(2, 1, 28, 28)
y = torch.tensor([3, 7])
Y_hat = net(X)
l = nn.functional.cross_entropy(Y_hat, y)
optimizer.zero_grad()
l.backward()
optimizer.step()
print(round(l.item(), 4))
