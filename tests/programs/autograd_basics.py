"""Automatic differentiation, step by step: gradients, accumulation, no_grad, detach."""

import torch

# a tiny logistic regression, by hand
x = torch.ones(5)
y = torch.zeros(3)
w = torch.linspace(-0.5, 0.5, 15).reshape(5, 3).requires_grad_()
b = torch.tensor([0.1, -0.2, 0.3], requires_grad=True)
z = torch.matmul(x, w) + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
print(f"Gradient function for z = {z.grad_fn.name()}")
print(f"Gradient function for loss = {loss.grad_fn.name()}")
loss.backward()
print(w.grad)
print(b.grad)

# gradients add up until they are cleared
a = torch.tensor([2.0, 3.0], requires_grad=True)
for step in range(3):
    out = (a ** 2).sum()
    out.backward()
    print(f"after backward {step + 1}: {a.grad}")
a.grad.zero_()
(a * 4).sum().backward()
print("after zero_ and one more:", a.grad)

# no_grad and detach stop the tape
z = torch.matmul(x, w) + b
print(z.requires_grad)
with torch.no_grad():
    z = torch.matmul(x, w) + b
print(z.requires_grad)
z_det = (torch.matmul(x, w) + b).detach()
print(z_det.requires_grad, z_det.grad_fn)

# gradients of a non-leaf on request
h = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
mid = h.exp()
mid.retain_grad()
top = (mid * torch.tensor([1.0, 2.0, 3.0])).sum()
top.backward()
print("mid.grad:", mid.grad)
print("h.grad:", h.grad)
print(mid.is_leaf, h.is_leaf, top.is_leaf)

# vector-Jacobian product: backward with a gradient argument
v = torch.tensor([0.1, 1.0, 0.0001])
q = torch.tensor([3.0, 4.0, 5.0], requires_grad=True)
r = q * q * 2
r.backward(v)
print(q.grad)

# the graph is freed after backward unless asked to keep it
s = torch.tensor(2.0, requires_grad=True)
t = s ** 3
t.backward(retain_graph=True)
t.backward()
print("twice through one graph:", s.grad)


class Exp(torch.autograd.Function):
    """exp with a hand-written backward that reuses the forward result."""

    @staticmethod
    def forward(ctx, i):
        result = i.exp()
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * result


class Clamp01(torch.autograd.Function):
    """clamp to [0, 1] whose gradient passes straight through."""

    @staticmethod
    def forward(ctx, i):
        return i.clamp(0, 1)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


u = torch.tensor([-1.0, 0.0, 0.5, 2.0], requires_grad=True)
e = Exp.apply(u)
e.sum().backward()
print(e)
print(u.grad)
print(torch.allclose(u.grad, u.detach().exp()), torch.equal(e, u.exp()))

u.grad = None
c = Clamp01.apply(u * 2)
(c * torch.arange(4.0)).sum().backward()
print(c, u.grad)

# torch.autograd.grad returns gradients instead of storing them in .grad
p = torch.tensor([1.5, -0.5], requires_grad=True)
f = (p ** 4).sum()
(g,) = torch.autograd.grad(f, p)
print(f"f = {f.item():.4f}, df = {g}, p.grad = {p.grad}")
