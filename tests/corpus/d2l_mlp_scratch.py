# Source: Dive into Deep Learning (0.17), 4.2 Implementation of Multilayer Perceptrons from Scratch (PyTorch tab)
#   https://github.com/d2l-ai/d2l-en/blob/r0.17/chapter_multilayer-perceptrons/mlp-scratch.md
#   https://github.com/d2l-ai/d2l-en/blob/r0.17/d2l/torch.py (train_epoch_ch3, accuracy)
# License: sample code MIT-0 (LICENSE-SAMPLECODE), text CC BY-SA 4.0 (d2l-ai/d2l-en). Copyright 2019 Amazon.com, Inc.
# Changes: Fashion-MNIST cannot be downloaded here: `d2l.load_data_fashion_mnist(batch_size)` is replaced by two
#   made-up batches of 256 random 1x28x28 images with random labels (train_iter), and `d2l.train_ch3` (plots with
#   an Animator) by its loop from d2l/torch.py written out for one epoch per printed line (train_epoch_ch3's
#   torch.optim branch and accuracy, printing loss and accuracy instead of plotting); num_epochs 10 -> 2;
#   `d2l.reshape` -> `torch.reshape`; the predict_ch3 cell (shows images) is left out. Model, parameters,
#   relu, net and loss cells are unchanged.
import torch
from torch import nn

batch_size = 256
train_iter = [(torch.randn(batch_size, 1, 28, 28), torch.randint(0, 10, (batch_size,))) for _ in range(2)]

num_inputs, num_outputs, num_hiddens = 784, 10, 256

W1 = nn.Parameter(torch.randn(
    num_inputs, num_hiddens, requires_grad=True) * 0.01)
b1 = nn.Parameter(torch.zeros(num_hiddens, requires_grad=True))
W2 = nn.Parameter(torch.randn(
    num_hiddens, num_outputs, requires_grad=True) * 0.01)
b2 = nn.Parameter(torch.zeros(num_outputs, requires_grad=True))

params = [W1, b1, W2, b2]

def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)

def net(X):
    X = torch.reshape(X, (-1, num_inputs))
    H = relu(X@W1 + b1)  # Here '@' stands for matrix multiplication
    return (H@W2 + b2)

loss = nn.CrossEntropyLoss(reduction='none')

def accuracy(y_hat, y):  #@save
    """Compute the number of correct predictions."""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())

num_epochs, lr = 2, 0.1
updater = torch.optim.SGD(params, lr=lr)
for epoch in range(num_epochs):
    total_loss, total_correct, total = 0.0, 0.0, 0
    for X, y in train_iter:
        # Compute gradients and update parameters
        y_hat = net(X)
        l = loss(y_hat, y)
        # Using PyTorch in-built optimizer & loss criterion
        updater.zero_grad()
        l.mean().backward()
        updater.step()
        total_loss += float(l.sum())
        total_correct += accuracy(y_hat, y)
        total += y.numel()
    print(f'epoch {epoch + 1}, loss {total_loss / total:.4f}, train acc {total_correct / total:.3f}')
