"""Render the network pictures in docs/ (docs/networks.md and the README show them).

    .venv/bin/python scripts/network_pictures.py [--out docs]

Mazur's 2-2-2 network with dE/dw on every edge, micrograd's demo network MLP 2-16-16-1
and the Coursera-style digits network MLP 64-25-10 on one of scikit-learn's 8x8 digits
(needs the `digits` extra; skipped with a note without it). The networks are untrained
and seeded, so the pictures are the same on every run.
"""

import argparse
import os
import struct

import nn
from chainrule.demos import MAZUR_INPUTS, MAZUR_TARGETS, mazur_model
from visualize import render_network


def png_size(path):
    with open(path, "rb") as f:
        return struct.unpack(">II", f.read(24)[16:24])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs", help="folder to write into (default docs)")
    args = parser.parse_args()
    written = [
        render_network(mazur_model(), MAZUR_INPUTS, os.path.join(args.out, "network_mazur.png"),
                       format="png", target=MAZUR_TARGETS, show_grads=True, cost_symbol="E",
                       digits=4),
        render_network(nn.MLP(2, [16, 16, 1], seed=0), [0.5, -1.0],
                       os.path.join(args.out, "network_2-16-16-1.png"), format="png",
                       target=1.0),
    ]
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        print("skipped network_64-25-10.png: needs scikit-learn (pip install -e '.[digits]')")
    else:
        digits = load_digits()
        image, label = [float(p) / 16.0 for p in digits.data[0]], int(digits.target[0])
        onehot = [1.0 if k == label else 0.0 for k in range(10)]
        written.append(render_network(nn.MLP(64, [25, 10], seed=0), image,
                                      os.path.join(args.out, "network_64-25-10.png"),
                                      format="png", target=onehot, loss="sigmoid_bce"))
    for path in written:
        width, height = png_size(path)
        print(f"{path}: {width} x {height} px")


if __name__ == "__main__":
    main()
