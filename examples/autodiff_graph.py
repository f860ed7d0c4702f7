"""The lecture's linear-regression computation graph, differentiated and shown.

    u = w1 x,   y_hat = w0 + u,   z = y_hat - y,   L = z^2

Run: python examples/autodiff_graph.py [out.dot]   (render: dot -Tsvg out.dot -o graph.svg)
"""
import sys

import numpy as np

from mlplab.autodiff import Tensor, grad, to_dot, to_text

x, y = Tensor(2.0, name="x"), Tensor(3.0, name="y")              # input nodes
w0 = Tensor(0.5, requires_grad=True, name="w0")                  # parameter nodes
w1 = Tensor(1.0, requires_grad=True, name="w1")
u = (w1 * x).named("u")                                          # compute nodes
y_hat = (w0 + u).named("y_hat")
z = (y_hat - y).named("z")
L = (z ** 2).named("L")
L.backward()

print(to_text(L))
print()
dot = to_dot(L)
print(dot)
if len(sys.argv) > 1:
    with open(sys.argv[1], "w") as f:
        f.write(dot + "\n")

# The same gradient with grad(): dL/dw for w = (w0, w1) over a batch of points
xs, ys = np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0])


def loss(w):
    return ((w[0] + w[1] * xs - ys) ** 2).mean()


print()
print("grad(loss)([0.5, 1.0]) =", grad(loss)(np.array([0.5, 1.0])))
