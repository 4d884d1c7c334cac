# Source: caogang/wgan-gp, gan_toy.py (Generator, Discriminator MLPs and calc_gradient_penalty), the PyTorch port of
#   Gulrajani et al., "Improved Training of Wasserstein GANs" (igul222/improved_wgan_training)
#   https://github.com/caogang/wgan-gp/blob/master/gan_toy.py
# License: MIT (caogang/wgan-gp). Copyright (c) 2017 Guo Cao and contributors.
# Changes: DIM 8 instead of 512; 8 Gaussians dataset replaced by 4 random 2-D points; one critic and one generator
#   iteration; autograd.Variable and .data[0] written as plain tensors / .item() (current PyTorch); no plotting.
import torch
import torch.autograd as autograd
import torch.nn as nn
import torch.optim as optim

DIM = 8
LAMBDA = .1
BATCH_SIZE = 4


class Generator(nn.Module):

    def __init__(self):
        super(Generator, self).__init__()
        main = nn.Sequential(
            nn.Linear(2, DIM),
            nn.ReLU(True),
            nn.Linear(DIM, DIM),
            nn.ReLU(True),
            nn.Linear(DIM, 2),
        )
        self.main = main

    def forward(self, noise, real_data):
        output = self.main(noise)
        return output


class Discriminator(nn.Module):

    def __init__(self):
        super(Discriminator, self).__init__()
        main = nn.Sequential(
            nn.Linear(2, DIM),
            nn.ReLU(True),
            nn.Linear(DIM, DIM),
            nn.ReLU(True),
            nn.Linear(DIM, 1),
        )
        self.main = main

    def forward(self, inputs):
        output = self.main(inputs)
        return output.view(-1)


def calc_gradient_penalty(netD, real_data, fake_data):
    alpha = torch.rand(BATCH_SIZE, 1)
    alpha = alpha.expand(real_data.size())
    interpolates = alpha * real_data + ((1 - alpha) * fake_data)
    interpolates.requires_grad_(True)
    disc_interpolates = netD(interpolates)
    gradients = autograd.grad(outputs=disc_interpolates, inputs=interpolates,
                              grad_outputs=torch.ones(disc_interpolates.size()),
                              create_graph=True, retain_graph=True, only_inputs=True)[0]
    gradient_penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean() * LAMBDA
    return gradient_penalty


torch.manual_seed(1)
netG = Generator()
netD = Discriminator()
optimizerD = optim.Adam(netD.parameters(), lr=1e-4, betas=(0.5, 0.9))
optimizerG = optim.Adam(netG.parameters(), lr=1e-4, betas=(0.5, 0.9))
one = torch.tensor(1.0)
mone = one * -1

# (1) Update D network
for p in netD.parameters():
    p.requires_grad = True
real_data_v = torch.randn(BATCH_SIZE, 2)
netD.zero_grad()
D_real = netD(real_data_v)
D_real = D_real.mean()
D_real.backward(mone)
noise = torch.randn(BATCH_SIZE, 2)
with torch.no_grad():
    fake = netG(noise, real_data_v)
inputv = fake
D_fake = netD(inputv)
D_fake = D_fake.mean()
D_fake.backward(one)
gradient_penalty = calc_gradient_penalty(netD, real_data_v, fake)
gradient_penalty.backward()
D_cost = D_fake - D_real + gradient_penalty
Wasserstein_D = D_real - D_fake
optimizerD.step()

# (2) Update G network
for p in netD.parameters():
    p.requires_grad = False  # to avoid computation
netG.zero_grad()
noisev = torch.randn(BATCH_SIZE, 2)
fake = netG(noisev, real_data_v)
G = netD(fake)
G = G.mean()
G.backward(mone)
G_cost = -G
optimizerG.step()
print('disc_cost %.5f gen_cost %.5f wasserstein %.5f' % (D_cost.item(), G_cost.item(), Wasserstein_D.item()))
