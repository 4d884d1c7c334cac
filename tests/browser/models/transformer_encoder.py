import torch
import torch.nn as nn

torch.manual_seed(0)

layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True)
encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
head = nn.Linear(8, 3)
opt = torch.optim.SGD(list(encoder.parameters()) + list(head.parameters()), lr=0.1)
x = torch.randn(2, 5, 8)
y = torch.tensor([0, 2])
loss = nn.functional.cross_entropy(head(encoder(x).mean(1)), y)
opt.zero_grad()
loss.backward()
opt.step()
