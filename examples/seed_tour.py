"""The intro-to-PyTorch notebook end to end, run with ``import gputensor as torch``.

Run: python examples/seed_tour.py
"""

import gputensor as torch

# ---- 1. The tensor library ----------------------------------------------------------
print("== 1. The tensor library ==")
t = torch.tensor([3, 7, 1])
print(t)
t = torch.tensor([[2, 5], [3, 9]])
print(t)

t = torch.tensor([[2, 5], [3, 9]])  # rank 2 tensor
print(t[0])  # returns a rank 1 tensor
print(t[0][0])  # returns a rank 0 tensor. Equivalently t[0,0]

t = torch.tensor([[1, 1, 1], [2, 2, 2], [3, 3, 3]])
print(t)
print()
print(t[0, :]), print(t[1, :])
print()
print(t[:, 0])
print()
print(t[0:2, 1:])

t = torch.tensor([[1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]])
print(t.shape)
r = t.view(12)
print(r)
r = t.view(2, -1)  # -1: infer this size from the number of elements
print(r)

x = torch.tensor([1, 1])
y = torch.tensor([2, 2])
z = x + y
print(z)
z = torch.cat([x, y])  # concatenate along the first axis
print(z)

print(repr(torch.ones((3, 2)) * 2))
print(repr(torch.ones((3, 2)) * torch.tensor([[2., 2], [2, 2], [2, 2]])))

x = torch.zeros((2, 3, 2))
y = torch.ones((3, 2))
print(x + y)
x = torch.zeros((2, 3, 2))
y = torch.ones((1, 3, 2))
print(x + y)
x = torch.zeros((2, 3, 2))
y = torch.ones((2))
print(x + y)

x = torch.zeros((2, 3, 2))
y = torch.ones((3, 3))
try:
    print(x + y)
except RuntimeError as e:
    print(f"RuntimeError: {e}")

# ---- 2. Computation graphs and autograd ---------------------------------------------
print("== 2. Computation graphs and autograd ==")
y = torch.ones((2, 2), requires_grad=True)
print(y.requires_grad)

a = torch.tensor([1.], requires_grad=True)
w1 = torch.tensor([1.], requires_grad=True)
w2 = torch.tensor([1.], requires_grad=True)
w3 = torch.tensor([1.], requires_grad=True)
w4 = torch.tensor([1.], requires_grad=True)

b = w1 * a
c = w2 * a
d = w3 * b + w4 * c
L = 10 - d

print(repr((b, d)))

print(L)
L.backward()
print(w4.grad)

# ---- 3. Modules ---------------------------------------------------------------------
print("== 3. Modules ==")
lin = torch.nn.Linear(in_features=3, out_features=5)
x = torch.tensor([1., 2., 3.])
print(lin(x))

x = torch.tensor([1., 2., 3.])
lin1 = torch.nn.Linear(in_features=3, out_features=5)
lin2 = torch.nn.Linear(in_features=5, out_features=4)
hidden = lin1(x)
output = lin2(hidden)
print(output)


class MyCoolNet(torch.nn.Module):
    """The notebook's four-layer network."""

    def __init__(self, in_size, out_size):
        super(MyCoolNet, self).__init__()
        self.lin1 = torch.nn.Linear(in_size, 10)
        self.lin2 = torch.nn.Linear(10, 15)
        self.lin3 = torch.nn.Linear(15, 10)
        self.lin4 = torch.nn.Linear(10, out_size)
        self.relu = torch.nn.ReLU()
        self.sig = torch.nn.Sigmoid()

    def forward(self, x):
        hidden = self.relu(self.lin1(x))
        hidden = self.relu(self.lin2(hidden))
        hidden = self.relu(self.lin3(hidden))
        output = self.sig(self.lin4(hidden))
        return output


model = MyCoolNet(in_size=5, out_size=5)
x = torch.tensor([1., 2, 3, 4, 5])
print(model(x))

# ---- 4. The optim package -----------------------------------------------------------
print("== 4. The optim package ==")
model = MyCoolNet(in_size=5, out_size=5)
optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

model = MyCoolNet(in_size=5, out_size=5)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.8)
x = torch.tensor([1., 2, 3, 4, 5])
for i in range(10):
    out = model(x)
    loss = torch.sum((0 - out) ** 2)  # loss decreases as out->0
    loss.backward()  # Calculate gradients
    optimizer.step()  # Step all weights in the direction of gradient
    optimizer.zero_grad()
    print(f"Loss {i}: {loss.item()}")

optimizer = torch.optim.Adam(model.parameters())
if hasattr(torch.optim, "Lookahead"):  # Lookahead is ours; torch has no such class
    optimizer = torch.optim.Lookahead(torch.optim.SGD(model.parameters(), lr=0.1), k=5,
                                      alpha=0.5)
