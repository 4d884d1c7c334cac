# Source: Dive into Deep Learning, 8.6 "Residual Networks (ResNet)" (the Residual block with two 3x3 convolutions,
#   BatchNorm and an optional 1x1 shortcut)
#   https://d2l.ai/chapter_convolutional-modern/resnet.html
#   https://github.com/d2l-ai/d2l-en/blob/master/chapter_convolutional-modern/resnet.md
# License: MIT-0 (code) (d2l-ai/d2l-en). Copyright (c) 2019- the d2l.ai authors.
# Changes: LazyConv2d/LazyBatchNorm2d written with explicit input channels (3 -> 4); a two-block net with a global
#   pool and a linear head trained one SGD step on a random batch of 2 6x6 images; BatchNorm's running stats printed.
import torch
from torch import nn
from torch.nn import functional as F


class Residual(nn.Module):
    """The Residual block of ResNet models."""

    def __init__(self, in_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.Conv2d(in_channels, num_channels, kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


torch.manual_seed(0)
blk = Residual(3, 3)
X = torch.randn(4, 3, 6, 6)
print(blk(X).shape)

net = nn.Sequential(Residual(3, 4, use_1x1conv=True, strides=2), Residual(4, 4),
                    nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(4, 3))
optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
X = torch.randn(2, 3, 6, 6)
y = torch.tensor([0, 2])
loss = F.cross_entropy(net(X), y)
optimizer.zero_grad()
loss.backward()
optimizer.step()
print(round(loss.item(), 4), net[0].bn1.running_mean, net[0].bn1.num_batches_tracked)
