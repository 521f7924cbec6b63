"""A small convolutional classifier on random images, as a first CNN tutorial writes it."""

import torch
import torch.nn as nn
import torch.nn.functional as F  # noqa: N812 - the usual name

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(6)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 12, 3)
        self.dropout = nn.Dropout(0.25)
        self.fc1 = nn.Linear(12 * 2 * 2, 32)
        self.fc2 = nn.Linear(32, 3)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = F.relu(self.conv2(x))
        x = F.adaptive_avg_pool2d(x, 2)
        x = torch.flatten(x, 1)
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)


net = Net()
print(net)
print("parameters:", sum(p.numel() for p in net.parameters()))

images = torch.randn(24, 1, 10, 10)
labels = torch.randint(0, 3, (24,))
print("first image row:", images[0, 0, 0])

criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)

for epoch in range(8):
    permutation = torch.randperm(24)
    running = 0.0
    for start in range(0, 24, 8):
        index = permutation[start:start + 8]
        optimizer.zero_grad()
        outputs = net(images[index])
        loss = criterion(outputs, labels[index])
        loss.backward()
        optimizer.step()
        running += loss.item()
    scheduler.step()
    print(f"epoch {epoch + 1}: loss {running / 3:.4f}, lr {scheduler.get_last_lr()[0]:.4f}")

net.eval()
with torch.no_grad():
    scores = net(images)
    predicted = scores.argmax(dim=1)
print("accuracy on the training images:", (predicted == labels).float().mean().item())
print("running mean of bn1:", net.bn1.running_mean)
pooled, where = F.max_pool2d(images[:1], 2, return_indices=True)
print("max pooling:", pooled.shape, where[0, 0, 0])
print("conv1 weight gradient norm:", net.conv1.weight.grad.norm())
