#!/usr/bin/python3
"""Prints Fashion-MNIST images as tab-separated rows for COPY: id, then the
784 pixel values as a Postgres array literal.

  fmnist.py train|test COUNT
"""
import gzip
import sys

DIR = "/usr/share/datasets/fashion-mnist"


def main(split, count):
    name = "train-images-idx3-ubyte.gz" if split == "train" else "t10k-images-idx3-ubyte.gz"
    with gzip.open(f"{DIR}/{name}") as f:
        data = f.read()
    pixels = 28 * 28
    for i in range(min(count, (len(data) - 16) // pixels)):
        image = data[16 + i * pixels:16 + (i + 1) * pixels]
        print(f"{split[:2]}{i}\t{{{','.join(map(str, image))}}}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
