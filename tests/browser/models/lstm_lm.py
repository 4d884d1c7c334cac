import torch
import torch.nn as nn

torch.manual_seed(0)


class LanguageModel(nn.Module):
    def __init__(self, vocab=20, dim=8, hidden=12):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, tokens):
        h, _ = self.lstm(self.embed(tokens))
        return self.head(h)


model = LanguageModel()
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
tokens = torch.randint(0, 20, (2, 6))
opt.zero_grad()
logits = model(tokens[:, :-1])
loss = nn.functional.cross_entropy(logits.reshape(-1, 20), tokens[:, 1:].reshape(-1))
loss.backward()
torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
opt.step()
