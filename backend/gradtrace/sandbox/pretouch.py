"""Trusted programs a spare child traces while it waits for its request. A fresh fork pays a copy-on-write
page fault for every memory page a run writes (~5-10 ms for a typical trace); paying them while idle takes
them off the user's clock. Pieces are small so a request that arrives meanwhile waits for one piece at most;
under load (request already waiting) none runs, since it would only add CPU time."""
import select

PIECES = [
    """import torch
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = (x * x + x.exp()).sum()
y.backward()
print(x.grad, y)
""",
    """import torch
import torch.nn as nn
import torch.nn.functional as F
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x, t = torch.randn(5, 3), torch.rand(5, 1)
loss = F.mse_loss(model(x), t) + F.binary_cross_entropy(torch.sigmoid(model(x)), t)
opt.zero_grad()
loss.backward()
opt.step()
""",
    """import torch
class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g
a = torch.randn(3, requires_grad=True)
b = Square.apply(a).view(3, 1)
b.retain_grad()
b.register_hook(lambda g: g * 2)
with torch.no_grad():
    c = a.detach() + 1
c.add_(1)
(g,) = torch.autograd.grad(b.sum() * a.sum(), a, create_graph=True)
g.sum().backward()
print(b.grad, a.grad)
""",
]


def run(request_fd: int, run_program, options) -> None:
    for piece in PIECES:
        if select.select([request_fd], [], [], 0)[0]:
            return  # the request is here: stop warming
        try:
            run_program(piece, 0, options)
        except BaseException:  # noqa: BLE001 - only a speed-up
            return
