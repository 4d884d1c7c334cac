"""Lecture programs with an optimizer, on the page: parameters drawn as they were at each step (not after
opt.step()), one update card per parameter, and every step of an MLP, an Adam program and a LeNet-sized CNN
renders without a script error (the page fixture fails on any)."""
import json
from pathlib import Path

import torch
from playwright.sync_api import expect

from .helpers import step, steps, type_program

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"

MLP_SGD = """import torch
import torch.nn as nn
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
X = torch.tensor([[1., 2.], [3., 4.]])
y = torch.tensor([[1.], [0.]])
pred = model(X)
loss = ((pred - y) ** 2).mean()
loss.backward()
opt.step()
"""

ADAM = """import torch
import torch.nn as nn
torch.manual_seed(0)
model = nn.Linear(3, 2)
opt = torch.optim.Adam(model.parameters(), lr=0.01)
X = torch.randn(4, 3)
for step in range(3):
    opt.zero_grad()
    loss = model(X).pow(2).mean()
    loss.backward()
    opt.step()
"""

LENET = """import torch
import torch.nn as nn
import torch.nn.functional as F
torch.manual_seed(0)

class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

model = LeNet()
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
images = torch.randn(4, 1, 28, 28)
labels = torch.tensor([3, 1, 4, 1])
loss = F.cross_entropy(model(images), labels)
loss.backward()
opt.step()
"""


def _plain(code: str) -> dict:
    ns: dict = {}
    exec(compile(code, "<plain>", "exec"), ns)
    return ns


def _walk(page, on_step=None) -> None:
    """Step forward through every step (each must render: data-step moves on), calling on_step(k)."""
    button = page.get_by_role("button", name="Step forward", exact=True)
    while step(page) < steps(page):
        k = step(page)
        button.click()
        expect(page.locator("#graph")).to_have_attribute("data-step", str(k + 1))
        if on_step is not None:
            on_step(k + 1)


def test_mlp_sgd_parameter_drawn_with_its_value_before_the_step(page):
    t = type_program(page, MLP_SGD)
    before = _plain(MLP_SGD.split("pred = ")[0])["model"][0].weight.detach()
    after = _plain(MLP_SGD)["model"][0].weight.detach()
    tid = next(x["id"] for x in t["tensors"] if x["name"] == "model.0.weight")
    box = page.locator(f'#graph [data-tensor-id="{tid}"][data-value]').first
    seen, shots = {}, {}

    def look(k):
        title = page.locator("#narration-title").text_content()
        if box.count():
            raw = box.get_attribute("data-value")
            if raw:
                seen[k] = (title, torch.tensor(json.loads(raw)))
        if "parameter update" in title and "card" not in shots:
            expect(page.locator("#chain-card.update-card")).to_be_visible()
            page.wait_for_function("document.querySelector('#graph').dataset.measured === document.querySelector('#graph').dataset.step")
            shots["card"] = k
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "update-card-mlp-sgd.png"))
            text = page.inner_text("#chain-card")
            assert "model.0.weight" in text or "model.0.bias" in text, text
            assert "✓" in text, text
        if k == 3 and "forward" not in shots:
            shots["forward"] = k
            page.screenshot(path=str(ARTIFACTS / "mlp-forward-step.png"))

    _walk(page, look)
    forward = [(k, v) for k, (title, v) in seen.items() if "parameter update" not in title and k < min(
        [k2 for k2, (t2, _) in seen.items() if "parameter update" in t2] or [10**9])]
    assert forward, seen
    for k, v in forward:  # every forward step: torch's value before opt.step()
        assert torch.allclose(v.reshape(before.shape), before, atol=1e-4), (k, v, before)
    assert torch.allclose(seen[max(seen)][1].reshape(after.shape), after, atol=1e-4)
    assert "card" in shots


def test_adam_program_steps_through_with_one_card_per_parameter(page):
    t = type_program(page, ADAM)
    titles = []

    def look(k):
        title = page.locator("#narration-title").text_content()
        titles.append(title)
        if "parameter update" in title:
            expect(page.locator("#chain-card.update-card")).to_be_visible()
            assert "Forward" not in title

    _walk(page, look)
    updates = [x for x in titles if "parameter update" in x]
    assert len(updates) == len([s for s in t["forward"] if s["kind"] == "optim"]) == 2 * len(t.get("loops", [{}])[0].get("recorded", [0, 1, 2]))
    assert all("Adam.step()" in x for x in updates)


def test_lenet_with_an_optimizer_steps_from_first_to_last(page):
    t = type_program(page, LENET)
    assert t["status"] == "ok"
    assert len([s for s in t["forward"] if s["kind"] == "optim"]) == 10  # one update per parameter
    _walk(page)
    assert step(page) == steps(page) > 50
