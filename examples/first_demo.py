"""First demo: one sigmoid neuron, its gradients, and a picture of its graph.

Run with `bash scripts/demo.sh` (installs everything) or `python examples/first_demo.py`.
"""

import argparse

from autograd_core import Value
from visualize import render


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="neuron.svg", help="picture to write (.svg or .png)")
    args = parser.parse_args()

    w, x, b = Value(-1.2, label="w"), Value(0.5, label="x"), Value(0.1, label="b")
    y = w * x + b
    y.label = "y"
    z = y.sigmoid()
    z.label = "z"
    z.backward()

    print(f"z = sigmoid(w*x + b) = {z.data:.6f}")
    for v in (w, x, b):
        print(f"dz/d{v.label} = {v.grad:+.6f}")
    s = z.data * (1 - z.data)
    print(f"check by hand: dz/dw = sigmoid'(y) * x = {s:.6f} * {x.data} = {s * x.data:.6f}")
    fmt = "png" if args.out.endswith(".png") else "svg"
    print(f"graph with data, gradients and local derivatives: {render(z, args.out, fmt)}")


if __name__ == "__main__":
    main()
