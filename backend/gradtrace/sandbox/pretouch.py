"""Trusted programs a spare child traces while it waits for its request. A fresh fork pays a copy-on-write
page fault for every memory page a run writes (~5-10 ms for a typical trace); paying them while idle takes
them off the user's clock. A request that arrives meanwhile stops the piece at once (SIGIO on the run socket,
acted on only while the piece's program is on the stack, once, so the tracer unwinds as from an exception
the program raised); under load (request already waiting, or the CPUs busy: zygote.spare_warms) none runs,
since it would only add CPU time. How many pieces run is a setting (sandbox_pretouch_pieces)."""
import fcntl
import os
import select
import signal

from ..tracer.errors import PROGRAM

_RECHECK_S = 0.002  # CPU seconds between looks for a safe point once the request is here

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


class _Arrived(BaseException):
    """The request is here: leave the warm-up piece (raised only inside the piece's program code)."""


def _in_program(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_filename == PROGRAM:
            return True
        frame = frame.f_back
    return False


def _on_request(signum, frame):
    if _in_program(frame):  # the piece's program is running: unwinding now is unwinding from its own exception
        signal.signal(signal.SIGIO, signal.SIG_IGN)
        signal.signal(signal.SIGVTALRM, signal.SIG_IGN)
        raise _Arrived
    signal.setitimer(signal.ITIMER_VIRTUAL, _RECHECK_S)  # before or after it: look again a little later


def _notify(request_fd: int) -> int | None:
    """Ask for SIGIO when the request arrives; the socket's old flags, or None when that is not possible."""
    try:
        flags = fcntl.fcntl(request_fd, fcntl.F_GETFL)
        signal.signal(signal.SIGIO, _on_request)
        signal.signal(signal.SIGVTALRM, _on_request)
        fcntl.fcntl(request_fd, fcntl.F_SETOWN, os.getpid())
        fcntl.fcntl(request_fd, fcntl.F_SETFL, flags | os.O_ASYNC)
        return flags
    except (OSError, ValueError):
        return None


def _quiet(request_fd: int, flags: int | None) -> None:
    signal.setitimer(signal.ITIMER_VIRTUAL, 0)
    signal.signal(signal.SIGIO, signal.SIG_IGN)
    signal.signal(signal.SIGVTALRM, signal.SIG_IGN)
    if flags is not None:
        fcntl.fcntl(request_fd, fcntl.F_SETFL, flags)


def run(request_fd: int, run_program, options) -> None:
    flags = _notify(request_fd)
    try:
        for piece in PIECES[:options.pretouch_pieces]:
            if select.select([request_fd], [], [], 0)[0]:
                return  # the request is here: stop warming
            try:
                run_program(piece, 0, options)
            except BaseException:  # noqa: BLE001 - only a speed-up (and _Arrived ends it)
                return
    finally:
        _quiet(request_fd, flags)
