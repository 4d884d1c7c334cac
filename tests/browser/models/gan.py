import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

G = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 4))
D = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
opt_g = torch.optim.Adam(G.parameters(), lr=2e-4)
opt_d = torch.optim.Adam(D.parameters(), lr=2e-4)
real = torch.randn(3, 4)
noise = torch.randn(3, 2)

# discriminator step
fake = G(noise)
d_loss = F.binary_cross_entropy_with_logits(D(real), torch.ones(3, 1)) + \
    F.binary_cross_entropy_with_logits(D(fake.detach()), torch.zeros(3, 1))
opt_d.zero_grad()
d_loss.backward()
opt_d.step()

# generator step
g_loss = F.binary_cross_entropy_with_logits(D(fake), torch.ones(3, 1))
opt_g.zero_grad()
g_loss.backward()
opt_g.step()
