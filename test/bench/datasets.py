#!/usr/bin/python3
"""The benchmarks' data sets as tab-separated rows for COPY, and their exact
nearest neighbours by brute force (numpy, Euclidean).

  datasets.py rows SET PART FIRST COUNT     id, then a Postgres array literal
  datasets.py truth SET BASE QUERIES K [TAGS]
                                            query id, neighbour id, rank;
                                            with TAGS, among the base vectors
                                            whose tag (index % 1000) is
                                            below TAGS only

SET is one of
  fmnist     Fashion-MNIST (Debian's dataset-fashion-mnist): 784 pixels;
             base = training images, queries = test images
  digits     scikit-learn's handwritten digits (Debian's python3-sklearn):
             64 pixels; queries = the first 100 images, base = the rest
  clustered  synthetic: 32 dimensions, 1,000 Gaussian clusters, any size;
             queries = fresh points of the same clusters
  words      learned text embeddings: the word vectors that
             `test/tools/wordvecs.sh large` trains with fastText on Debian's
             dict-gcide, in the folder $WL_BENCH_WORDS; cosine (the truth is
             computed on normalised vectors); queries = held-out words
  docs       the same from `wordvecs.sh docs` (Debian's documentation
             packages, cbow), in $WL_BENCH_DOCS
  text384    learned text embeddings of 384 dimensions whose top 128
             principal components hold about 60% of the variance
             (`test/tools/textsets.sh text384`), in $WL_BENCH_TEXT384; cosine
  lowcontrast384  many noisy Gaussian clusters in 384 dimensions
             (`test/tools/textsets.sh lowcontrast384`), in
             $WL_BENCH_LOWCONTRAST; cosine
  gen384     any number of 384-dimension vectors drawn from
             test/bench/embedding_model.py's model of text384: base.fvecs
             and queries.fvecs in $WL_BENCH_GEN384 (test/bench/million384.sh
             makes them), rounded to 4 decimals as rows prints them; cosine
  gen768, gen1536  the same model's vectors lifted into 768 and 1536
             dimensions (embedding_model.py's lift), in $WL_BENCH_GEN768
             and $WL_BENCH_GEN1536 (test/bench/wide.sh makes them); cosine
PART is base or queries; ids are UUIDs, as applications' are, derived from
the part and the index (uuid5), so that every run names a vector alike.  The
truth of BASE base vectors is against the first BASE of them, so a growing
collection can be checked at every size.
"""
import functools
import gzip
import os
import sys
import uuid

import numpy as np

from embedding_model import read_fvecs

FMNIST = "/usr/share/datasets/fashion-mnist"
DIGITS = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"
CLUSTERS = 1000
CLUSTERED_DIMS = 32
# Tags of base vectors, for filtered truth: vector i has tag i % TAGS.
TAGS = 1000


def fmnist(part, first, count):
    """Images first..first+count-1 of the training or test file."""
    name = "train-images-idx3-ubyte.gz" if part == "base" else "t10k-images-idx3-ubyte.gz"
    with gzip.open(f"{FMNIST}/{name}") as f:
        data = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784)
    return data[first:first + count].astype(np.float32)


def digits(part, first, count):
    """The 1,797 digit images: the first 100 are the queries."""
    data = np.loadtxt(DIGITS, delimiter=",", dtype=np.float32)[:, :64]
    data = data[:100] if part == "queries" else data[100:]
    return data[first:first + count]


def clustered(part, first, count):
    """Points around fixed random centres; row i is the same at any size."""
    centres = np.random.default_rng(7).normal(0, 10, (CLUSTERS, CLUSTERED_DIMS))
    out = np.empty((count, CLUSTERED_DIMS), dtype=np.float32)
    block = 10000
    for start in range(first - first % block, first + count, block):
        seed = (1 if part == "base" else 2, start // block)
        rng = np.random.default_rng(seed)
        which = rng.integers(0, CLUSTERS, block)
        points = centres[which] + rng.normal(0, 1, (block, CLUSTERED_DIMS))
        lo, hi = max(start, first), min(start + block, first + count)
        out[lo - first:hi - first] = points[lo - start:hi - start]
    return out


def word_vectors(folder_variable, part, first, count):
    """Word vectors (vectors.csv: the base; queries.csv: held-out words)
    from the folder an environment variable names."""
    name = "vectors.csv" if part == "base" else "queries.csv"
    path = os.path.join(os.environ[folder_variable], name)
    with open(path) as f:
        data = np.array([[float(x) for x in line.split(",")[1:]] for line in f], dtype=np.float32)
    return data[first:first + count]


def fvecs(folder_variable, part, first, count):
    """Vectors first..first+count-1 of base.fvecs or queries.fvecs (read by
    embedding_model.py) in the folder an environment variable names,
    rounded to the 4 decimals rows prints, so that the truth is of the
    vectors loaded."""
    data = read_fvecs(os.path.join(os.environ[folder_variable], part + ".fvecs"))
    return np.round(np.array(data[first:first + count]), 4)


SETS = {"fmnist": fmnist, "digits": digits, "clustered": clustered,
        "words": functools.partial(word_vectors, "WL_BENCH_WORDS"),
        "docs": functools.partial(word_vectors, "WL_BENCH_DOCS"),
        "text384": functools.partial(word_vectors, "WL_BENCH_TEXT384"),
        "lowcontrast384": functools.partial(word_vectors, "WL_BENCH_LOWCONTRAST"),
        "gen384": functools.partial(fvecs, "WL_BENCH_GEN384"),
        "gen768": functools.partial(fvecs, "WL_BENCH_GEN768"),
        "gen1536": functools.partial(fvecs, "WL_BENCH_GEN1536")}
# Sets searched by cosine distance: their truth is Euclidean on unit vectors.
COSINE = {"words", "docs", "text384", "lowcontrast384", "gen384", "gen768", "gen1536"}


def vector_id(part, index):
    """The UUID of vector `index` of a part (base or queries)."""
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"whiplash-bench/{part}/{index}"))


# Vectors scaled to unit length (zero vectors left as they are).
def unit(data):
    norms = np.linalg.norm(data, axis=1, keepdims=True)
    return data / np.where(norms == 0, 1, norms)


def rows(name, part, first, count):
    """Prints id and array literal per vector."""
    data = SETS[name](part, first, count)
    integral = bool(np.all(data == np.round(data)))
    out = sys.stdout
    for i, vector in enumerate(data):
        if integral:
            values = ",".join(str(int(x)) for x in vector)
        else:
            values = ",".join(f"{x:.4f}" for x in vector)
        out.write(f"{vector_id(part, first + i)}\t{{{values}}}\n")


def truth(name, nbase, nqueries, k, tags=TAGS):
    """Prints the k exact nearest base vectors of every query (ties by id),
    among those whose tag is below tags."""
    queries = SETS[name]("queries", 0, nqueries).astype(np.float64)
    if name in COSINE:
        queries = unit(queries)
    best_d = np.full((nqueries, k), np.inf)
    best_i = np.zeros((nqueries, k), dtype=np.int64)
    block = 50000
    for start in range(0, nbase, block):
        base = SETS[name]("base", start, min(block, nbase - start)).astype(np.float64)
        if name in COSINE:
            base = unit(base)
        d = ((queries ** 2).sum(1)[:, None] - 2 * queries @ base.T + (base ** 2).sum(1)[None, :])
        d = np.maximum(d, 0)
        d[:, np.arange(start, start + len(base)) % TAGS >= tags] = np.inf
        both_d = np.concatenate([best_d, d], axis=1)
        both_i = np.concatenate([best_i, np.arange(start, start + len(base))[None, :].repeat(nqueries, 0)], axis=1)
        order = np.argsort(both_d, axis=1, kind="stable")[:, :k]
        best_d = np.take_along_axis(both_d, order, 1)
        best_i = np.take_along_axis(both_i, order, 1)
    for q in range(nqueries):
        for rank in range(k):
            if np.isinf(best_d[q, rank]):
                break
            print(f"{vector_id('queries', q)}\t{vector_id('base', best_i[q, rank])}\t{rank + 1}")


def main(argv):
    if argv[1] == "rows":
        rows(argv[2], argv[3], int(argv[4]), int(argv[5]))
    elif argv[1] == "truth":
        truth(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), *[int(x) for x in argv[6:7]])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
