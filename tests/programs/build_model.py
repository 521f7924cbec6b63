"""Building models: Module subclasses, Sequential, parameters, state_dict, printing."""

import torch
from torch import nn


def fill_deterministically(model):
    """Give every parameter fixed values, so the printed numbers do not depend on a seed."""
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            values = torch.linspace(-1.0, 1.0, p.numel()) * (0.5 / (i + 1))
            p.copy_(values.reshape(p.shape))


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(4 * 4, 32),
            nn.ReLU(),
            nn.Linear(32, 32),
            nn.ReLU(),
            nn.Linear(32, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


device = "cuda" if torch.cuda.is_available() else "cpu"
print(f"Using {device} device")

model = NeuralNetwork().to(device)
fill_deterministically(model)
print(model)

X = torch.linspace(0, 1, 3 * 4 * 4).reshape(3, 4, 4).to(device)
logits = model(X)
pred_probab = nn.Softmax(dim=1)(logits)
y_pred = pred_probab.argmax(1)
print(f"Predicted class: {y_pred}")
print(logits.shape, pred_probab.sum(dim=1))

print(f"Model structure: {model}\n\n")
for name, param in model.named_parameters():
    print(f"Layer: {name} | Size: {param.size()} | Values : {param[:2]} \n")

total = sum(p.numel() for p in model.parameters())
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(f"{total} parameters, {trainable} trainable")


# layer by layer
input_image = torch.linspace(-1, 1, 3 * 28 * 28).reshape(3, 28, 28)
print(input_image.size())
flat_image = nn.Flatten()(input_image)
print(flat_image.size())
layer1 = nn.Linear(in_features=28 * 28, out_features=20)
fill_deterministically(layer1)
hidden1 = layer1(flat_image)
print(hidden1.size())
print(f"Before ReLU: {hidden1[:, :6]}\n\n")
hidden1 = nn.ReLU()(hidden1)
print(f"After ReLU: {hidden1[:, :6]}")


class Block(nn.Module):
    """A residual block with a LayerNorm and a hidden layer twice as wide."""

    def __init__(self, width):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.up = nn.Linear(width, 2 * width)
        self.act = nn.GELU()
        self.down = nn.Linear(2 * width, width, bias=False)

    def forward(self, x):
        return x + self.down(self.act(self.up(self.norm(x))))


class Tower(nn.Module):
    def __init__(self, width, depth, classes):
        super().__init__()
        self.embed = nn.Embedding(7, width)
        self.blocks = nn.ModuleList([Block(width) for _ in range(depth)])
        self.head = nn.Linear(width, classes)
        self.register_buffer("scale", torch.tensor(0.5))

    def forward(self, tokens):
        x = self.embed(tokens) * self.scale
        for block in self.blocks:
            x = block(x)
        return self.head(x.mean(dim=1))


tower = Tower(width=6, depth=2, classes=3)
fill_deterministically(tower)
print(tower)
print([name for name, _ in tower.named_children()])
print([name for name, _ in tower.named_modules()])
print(list(tower.state_dict().keys()))
print({k: tuple(v.shape) for k, v in tower.state_dict().items()})
print(sum(p.numel() for p in tower.parameters()))
tokens = torch.tensor([[0, 1, 2, 3], [6, 5, 4, 3]])
out = tower(tokens)
print(out)

# copy the weights into a second model through a state_dict
twin = Tower(width=6, depth=2, classes=3)
result = twin.load_state_dict(tower.state_dict())
print(result)
print(torch.equal(twin(tokens), out))

# freeze the embedding and count again
tower.embed.weight.requires_grad_(False)
print(sum(p.numel() for p in tower.parameters() if p.requires_grad))
tower.eval()
print(tower.training, tower.blocks[0].training)
print(tower.blocks[1].up.weight.shape, tower.blocks[1].up.bias[:3])
