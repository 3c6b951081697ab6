#!/usr/bin/python3
"""Low-contrast test vectors for sql/embeddings.sql, deterministic: points
around 40 cluster centres with more noise than the centres are apart, in
384 dimensions, so that no few principal components hold the variance
(as with sentence embeddings) and near neighbours are hardly nearer than
the rest.  Run with Debian's /usr/bin/python3 (python3-numpy).

  noisy_clusters.py rows BASE QUERIES   "base|query <TAB> id <TAB> {array}"
  noisy_clusters.py share BASE          the top 128 principal components'
                                        share of the base's variance
"""
import sys

import numpy as np

DIMS = 384
CLUSTERS = 40
SEED = 20261205


def points(count):
    """count points of the set; the same first points at any count."""
    rng = np.random.default_rng(SEED)
    centres = rng.normal(0.0, 0.6, (CLUSTERS, DIMS))
    which = rng.integers(0, CLUSTERS, count)
    return (centres[which] + rng.normal(0.0, 1.0, (count, DIMS))).astype(np.float32)


def main(argv):
    if len(argv) == 4 and argv[1] == "rows":
        base, queries = int(argv[2]), int(argv[3])
        data = points(base + queries)
        for i, vector in enumerate(data):
            part = "base" if i < base else "query"
            values = ",".join(f"{x:.4f}" for x in vector)
            print(f"{part}\tv{i:05d}\t{{{values}}}")
    elif len(argv) == 3 and argv[1] == "share":
        data = points(int(argv[2])).astype(np.float64)
        spectrum = np.linalg.svd(data - data.mean(axis=0), compute_uv=False) ** 2
        print(f"{spectrum[:128].sum() / spectrum.sum():.2f}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
