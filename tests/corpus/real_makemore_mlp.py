# Source: Andrej Karpathy, makemore part 2 (the Bengio et al. 2003 character MLP: C, W1, b1, W2, b2), from
#   "Neural Networks: Zero to Hero", lecture 3
#   https://github.com/karpathy/nn-zero-to-hero/blob/master/lectures/makemore/makemore_part2_mlp.ipynb
# License: MIT (karpathy/nn-zero-to-hero). Copyright (c) 2022 Andrej Karpathy.
# Changes: six made-up names instead of names.txt; block_size 3, 2-d embeddings, 12 hidden units; three training
#   steps on a minibatch of 8 (the notebook runs 200,000); learning rate 0.1.
import random

import torch
import torch.nn.functional as F

words = ['emma', 'olivia', 'ava', 'isabella', 'sophia', 'mia']
chars = sorted(list(set(''.join(words))))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi['.'] = 0
itos = {i: s for s, i in stoi.items()}
vocab_size = len(itos)

block_size = 3  # context length: how many characters do we take to predict the next one?


def build_dataset(words):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + '.':
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]  # crop and append
    X = torch.tensor(X)
    Y = torch.tensor(Y)
    return X, Y


random.seed(42)
random.shuffle(words)
Xtr, Ytr = build_dataset(words)
print(Xtr.shape, Ytr.shape)

g = torch.Generator().manual_seed(2147483647)  # for reproducibility
C = torch.randn((vocab_size, 2), generator=g)
W1 = torch.randn((6, 12), generator=g)
b1 = torch.randn(12, generator=g)
W2 = torch.randn((12, vocab_size), generator=g)
b2 = torch.randn(vocab_size, generator=g)
parameters = [C, W1, b1, W2, b2]
print(sum(p.nelement() for p in parameters))  # number of parameters in total
for p in parameters:
    p.requires_grad = True

for i in range(3):
    # minibatch construct
    ix = torch.randint(0, Xtr.shape[0], (8,), generator=g)
    # forward pass
    emb = C[Xtr[ix]]  # (8, 3, 2)
    h = torch.tanh(emb.view(-1, 6) @ W1 + b1)  # (8, 12)
    logits = h @ W2 + b2  # (8, vocab_size)
    loss = F.cross_entropy(logits, Ytr[ix])
    # backward pass
    for p in parameters:
        p.grad = None
    loss.backward()
    # update
    lr = 0.1
    for p in parameters:
        p.data += -lr * p.grad
    print(i, loss.item())
