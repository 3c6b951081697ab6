#!/usr/bin/python3
"""Benchmark sets of any size shaped like learned text embeddings: a
generative model fitted to a learned set, sampled deterministically.

    embedding_model.py fit VECTORS.csv MODEL.npz
    embedding_model.py sample MODEL.npz DIMS N SEED OUT.fvecs [--csv OUT.csv]
    embedding_model.py truth BASE.fvecs QUERIES.fvecs K OUT.ivecs
    embedding_model.py stats FILE                  # FILE: .fvecs or .csv

Run with Debian's /usr/bin/python3 (python3-numpy; nothing else).

Why
    The learned 384-dimensional set the project builds
    (`test/tools/textsets.sh text384`: TF-IDF and latent semantic analysis of
    documentation chunks, L2-normalised) has the flat spectrum of sentence
    embeddings -- its top 128 principal components hold about 55% of the
    variance -- but only 40,000 vectors, too few to show how an index behaves
    at a million.  The synthetic sets (datasets.py clustered,
    textsets.sh lowcontrast384) scale but are isotropic Gaussian clusters,
    unlike text.  This script fits a mixture of low-rank Gaussians to the
    learned set and draws as many vectors from it as wanted, the same ones on
    every run.

fit
    Reads "id,x1,...,xd" rows (vectors.csv of textsets.sh, no header),
    L2-normalises them and clusters them with k-means (numpy: k-means++
    seeding and Lloyd iterations, seed FIT_SEED) into CLUSTERS clusters.  Per
    cluster it keeps
      - its weight (share of the points) and its mean;
      - the top RANK principal directions of the points' residuals from the
        mean, with their variances (divisor: the cluster's size, so that the
        model's variance is the data's);
      - an isotropic remainder: the rest of the residual variance spread
        evenly over the other d - RANK directions.
    MODEL.npz holds these arrays (weights, means, directions, variances,
    isotropic) and the fit's parameters.

sample
    Draws N vectors of DIMS dimensions: a cluster by weight, the mean plus
    N(0, variance) along each of its RANK directions plus N(0, isotropic) in
    every coordinate, then L2-normalised, as sentence-embedding models'
    outputs are.  The draws go in chunks of CHUNK rows, chunk c from numpy's
    default_rng(SeedSequence(SEED, spawn_key=(c,))), a whole chunk at a time
    (the tail of the last one is dropped): row i depends only on the model,
    SEED and i, so a set of N rows is the first N rows of any larger set of
    the same SEED.  Use another SEED for the queries: its streams are
    independent of the base set's, and `truth` counts any query that is in
    the base anyway.  Memory stays under about 1 GB for any N.

    DIMS larger than the model's d (768 for the text384 model) lifts each
    unit sample x into DIMS dimensions: y = Q [x; e], L2-normalised, where Q
    is a fixed DIMS x DIMS orthogonal matrix (QR of a Gaussian matrix drawn
    with default_rng(LIFT_SEED), signs fixed by R's diagonal; the same for
    every SEED, so base and queries share it) and e is DIMS - d coordinates
    of isotropic Gaussian noise with a total variance of LIFT_NOISE.  So x is
    embedded by Q's first d columns, a random orthonormal embedding, and the
    noise lies in the orthogonal complement of that embedding.  The noise is
    drawn after the d-dimensional sample from the same chunk stream: row i of
    a lifted set is the lift of row i of the d-dimensional set of the same
    SEED.  LIFT_NOISE = 0.05, against the text384 model's total variance of
    0.87, lowers the share of the variance in the top 128 principal
    components by about 5% of itself (0.552 to 0.522 on 40,000 rows),
    within the 50-65% aimed at, and makes neighbours a little less distinct
    (contrast below: 0.525 to 0.551).  The spectrum has a step after the
    d-th component, where the flat noise of the complement begins.

    OUT.fvecs: per row a little-endian int32 DIMS, then DIMS float32.
    --csv OUT.csv also writes "id,x1,...,xDIMS" rows (no header, %.6g), id a
    lower-case canonical UUID version 5 of "SEED/ROW" (ROW from 0) in this
    script's namespace.

truth
    The exact cosine top K of each query among the base vectors: both sides
    L2-normalised in float64, the base memory-mapped and read in chunks of
    TRUTH_CHUNK rows, the similarities by matrix product, ties by the lower
    base row.  The result does not depend on TRUTH_CHUNK.
    OUT.ivecs: per query a little-endian int32 K, then K int32 base row
    numbers (from 0), nearest first.  Prints the mean similarity of the 1st
    and Kth neighbours and how many queries are also in the base.

stats
    n and dims; the share of the variance of the centred vectors in the top
    TOP principal components (of a STATS_SPECTRUM-row random subsample); the
    mean cosine similarity of random pairs; and the contrast: for
    STATS_QUERIES random rows against STATS_BASE other random rows (all
    L2-normalised), the mean distance to the 10th nearest neighbour over the
    mean distance to any of them (near 1: neighbours hardly nearer than
    random points, the hard case), in cosine distance (1 - cos) and in
    Euclidean distance of the unit vectors.  Subsamples come from
    default_rng(STATS_SEED).

Determinism
    BLAS and OpenMP are pinned to one thread before numpy is imported, as in
    test/tools/textsets.sh: threaded sums can differ from run to run in the
    last bits, and k-means assignments and near-tied neighbours with them.
    Outputs depend on this script, on numpy's version (numpy does not
    promise the same random numbers across releases) and on the BLAS library
    it uses (Debian's reference libblas3 here).  Two runs of sample, and of
    truth, gave byte-identical files.

Measured (2 cores shared with a CI run, nice 19, reference BLAS)
    fit of text384 (40,000 x 384; k-means took 92 iterations): 12 minutes.
    sample: 1,000,000 x 384 in 42 s, 100,000 x 768 in 44 s; at most 0.9 GB.
    truth, top 10 of 1,000 queries: 100,000 x 384 in 20-31 s, 1,000,000 x 384
    in 190-250 s (0.75 GB of work arrays besides the mapped file).
    stats (top-128 share, contrast in cosine distance):
        text384 (learned, 40,000)            0.550   0.475
        sampled 384, 40,000                  0.552   0.525
        sampled 384, 1,000,000               0.552   0.518
        sampled 768, 40,000                  0.522   0.551
    The spectrum and the mean cosine of random pairs (0.13) match; sampled
    neighbours are a little less distinct than learned ones (real sets have
    near-duplicates and structure finer than 256 clusters): 1,024 clusters
    gave 0.465-0.482 but from clusters of 36 points, which a million samples
    would mostly re-create.
"""
import os
import sys
import time
import uuid

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402  (after the thread settings)

CLUSTERS = 256
RANK = 24  # principal directions kept per cluster
FIT_SEED = 1
KMEANS_ITERS = 100  # at most; stops once no point changes cluster

CHUNK = 32768  # rows drawn at a time; part of the stream's definition
LIFT_SEED = 768
LIFT_NOISE = 0.05  # total variance of the lift's noise, per unit vector

TRUTH_CHUNK = 25000  # base rows a step; about 0.7 GB of work arrays with 1,000 queries

TOP = 128
STATS_SEED = 1
STATS_SPECTRUM = 20000
STATS_QUERIES = 200
STATS_BASE = 50000
STATS_NEIGHBOUR = 10

ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "whiplash:test/bench/embedding_model")


def log(msg):
    print(f"embedding_model: {msg}", file=sys.stderr, flush=True)


def normalised(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def read_csv(path):
    """Vectors of "id,x1,...,xd" rows, as float64."""
    with open(path) as f:
        dims = f.readline().count(",")
    return np.loadtxt(path, delimiter=",", usecols=range(1, dims + 1), dtype=np.float64, ndmin=2)


def read_fvecs(path):
    """The vectors of an .fvecs file, memory-mapped float32 (n x dims)."""
    raw = np.memmap(path, dtype="<f4", mode="r")
    dims = int(raw[:1].view("<i4")[0])
    if dims <= 0 or raw.size % (dims + 1):
        sys.exit(f"{path}: not an .fvecs file")
    rows = raw.reshape(-1, dims + 1)
    if np.any(rows[:, 0].view("<i4") != dims):
        sys.exit(f"{path}: rows of differing dimensions")
    return rows[:, 1:]


def read_vectors(path):
    return read_fvecs(path) if path.endswith(".fvecs") else read_csv(path)


def kmeans(x, k, rng):
    """Labels of x's rows: k-means++ seeding, then Lloyd iterations."""
    n = len(x)
    centres = np.empty((k, x.shape[1]))
    centres[0] = x[rng.integers(n)]
    d2 = ((x - centres[0]) ** 2).sum(axis=1)
    for j in range(1, k):
        centres[j] = x[rng.choice(n, p=d2 / d2.sum())]
        d2 = np.minimum(d2, ((x - centres[j]) ** 2).sum(axis=1))
    labels = None
    for it in range(KMEANS_ITERS):
        # |x - c|^2 less |x|^2, which is the same for every centre
        new = np.argmin((centres**2).sum(axis=1) - 2 * x @ centres.T, axis=1)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            members = x[labels == j]
            if len(members):  # an emptied cluster keeps its old centre
                centres[j] = members.mean(axis=0)
    log(f"k-means: {it + 1} iterations")
    return labels


def fit(vectors_path, model_path):
    start = time.time()
    x = normalised(read_csv(vectors_path))
    n, dims = x.shape
    log(f"read {n} x {dims} from {vectors_path} ({time.time() - start:.0f} s)")
    labels = kmeans(x, CLUSTERS, np.random.default_rng(FIT_SEED))
    weights = np.bincount(labels, minlength=CLUSTERS) / n
    means = np.zeros((CLUSTERS, dims))
    directions = np.zeros((CLUSTERS, RANK, dims))
    variances = np.zeros((CLUSTERS, RANK))
    isotropic = np.zeros(CLUSTERS)
    for c in range(CLUSTERS):
        members = x[labels == c]
        if not len(members):
            continue  # weight 0: never drawn
        means[c] = members.mean(axis=0)
        _, s, vt = np.linalg.svd(members - means[c], full_matrices=False)
        var = s**2 / len(members)
        top = min(RANK, len(var))
        directions[c, :top] = vt[:top]
        variances[c, :top] = var[:top]
        isotropic[c] = var[top:].sum() / (dims - RANK)
    np.savez(
        model_path,
        weights=weights,
        means=means,
        directions=directions,
        variances=variances,
        isotropic=isotropic,
        source=os.path.basename(vectors_path),
        n=n,
        fit_seed=FIT_SEED,
    )
    sizes = np.sort(np.bincount(labels, minlength=CLUSTERS))
    total = (weights * (variances.sum(axis=1) + isotropic * (dims - RANK))).sum()
    total += (weights[:, None] * (means - weights @ means) ** 2).sum()
    log(
        f"{CLUSTERS} clusters (sizes {sizes[0]}..{sizes[-1]}, median {int(np.median(sizes))}),"
        f" rank {RANK}; model variance {total:.4f}, within clusters"
        f" {(weights * variances.sum(axis=1)).sum():.4f} low-rank +"
        f" {(weights * isotropic).sum() * (dims - RANK):.4f} isotropic"
    )
    log(f"wrote {model_path} ({time.time() - start:.0f} s)")


def lift_basis(dims):
    """Fixed dims x dims orthogonal matrix."""
    q, r = np.linalg.qr(np.random.default_rng(LIFT_SEED).standard_normal((dims, dims)))
    return q * np.sign(np.diag(r))


def draw(model, dims, n, seed):
    """Yields the n rows of the set in float32 chunks of up to CHUNK rows."""
    weights, means = model["weights"], model["means"]
    directions, variances = model["directions"], model["variances"]
    spread = np.sqrt(model["isotropic"])
    d = means.shape[1]
    if dims < d:
        sys.exit(f"the model has {d} dimensions: cannot sample {dims}")
    # y = Q [x; e] as [x; e] @ Q.T, with Q.T laid out by rows: numpy on the
    # reference BLAS (Debian's libblas3) multiplies that way about twice as fast
    lift = np.ascontiguousarray(lift_basis(dims).T) if dims > d else None
    for chunk in range(-(-n // CHUNK)):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(chunk,)))
        labels = rng.choice(len(weights), size=CHUNK, p=weights)
        coef = rng.standard_normal((CHUNK, directions.shape[1]))
        x = means[labels] + rng.standard_normal((CHUNK, d)) * spread[labels, None]
        for c in np.unique(labels):
            rows = np.flatnonzero(labels == c)
            x[rows] += (coef[rows] * np.sqrt(variances[c])) @ directions[c]
        keep = min(CHUNK, n - chunk * CHUNK)
        x = normalised(x[:keep])
        if lift is not None:
            noise = rng.standard_normal((CHUNK, dims - d))[:keep]
            x = normalised(np.hstack([x, noise * np.sqrt(LIFT_NOISE / (dims - d))]) @ lift)
        yield x.astype(np.float32)


def sample(model_path, dims, n, seed, out_path, csv_path):
    start = time.time()
    model = np.load(model_path)
    row = 0
    with open(out_path, "wb") as out, open(csv_path or os.devnull, "w") as csv:
        line = "%s" + ",%.6g" * dims + "\n"
        for x in draw(model, dims, n, seed):
            rec = np.empty((len(x), dims + 1), dtype="<f4")
            rec[:, 1:] = x
            rec[:, :1].view("<i4")[:] = dims
            rec.tofile(out)
            if csv_path:
                for i, v in enumerate(x.tolist(), start=row):
                    csv.write(line % (uuid.uuid5(ID_NAMESPACE, f"{seed}/{i}"), *v))
            row += len(x)
    log(f"wrote {n} x {dims} (seed {seed}) to {out_path} ({time.time() - start:.0f} s)")


def truth(base_path, queries_path, k, out_path):
    start = time.time()
    base = read_fvecs(base_path)
    queries = read_fvecs(queries_path)
    q = normalised(np.asarray(queries, dtype=np.float64))
    qt = np.ascontiguousarray(q.T)  # base chunk @ qt: the fastest layout (see draw)
    if not 1 <= k <= min(len(base), TRUTH_CHUNK):
        sys.exit(f"K must be between 1 and {min(len(base), TRUTH_CHUNK)}")
    best_sim = np.empty((len(q), 0))
    best_id = np.empty((len(q), 0), dtype=np.int64)
    for first in range(0, len(base), TRUTH_CHUNK):
        b = normalised(np.asarray(base[first : first + TRUTH_CHUNK], dtype=np.float64))
        sim = b @ qt  # base rows x queries
        m = len(b)
        kth = np.partition(sim, m - min(k, m), axis=0)[m - min(k, m)]
        bi, qi = np.nonzero(sim >= kth)  # all ties at the kth too
        who = np.concatenate([np.repeat(np.arange(len(q)), best_sim.shape[1]), qi])
        s = np.concatenate([best_sim.ravel(), sim[bi, qi]])
        ids = np.concatenate([best_id.ravel(), bi + first])
        order = np.lexsort((ids, -s, who))
        take = np.searchsorted(who[order], np.arange(len(q)))[:, None] + np.arange(k)
        best_sim, best_id = s[order][take], ids[order][take]
    rec = np.empty((len(q), k + 1), dtype="<i4")
    rec[:, 0] = k
    rec[:, 1:] = best_id
    rec.tofile(out_path)
    copies = int(np.all(np.asarray(base[best_id[:, 0]]) == np.asarray(queries), axis=1).sum())
    log(
        f"top {k} of {len(q)} queries among {len(base)}: mean cosine of the 1st"
        f" {best_sim[:, 0].mean():.4f}, of the {k}th {best_sim[:, -1].mean():.4f};"
        f" queries also in the base: {copies}; wrote {out_path} ({time.time() - start:.0f} s)"
    )


def stats(path):
    x = read_vectors(path)
    n, dims = x.shape
    rng = np.random.default_rng(STATS_SEED)
    sub = np.sort(rng.choice(n, min(n, STATS_SPECTRUM), replace=False))
    s = np.asarray(x[sub], dtype=np.float64)
    eig = np.linalg.eigvalsh(np.cov(s, rowvar=False))[::-1]
    perm = rng.permutation(n)
    q = normalised(np.asarray(x[np.sort(perm[:STATS_QUERIES])], dtype=np.float64))
    b = normalised(
        np.asarray(x[np.sort(perm[STATS_QUERIES : STATS_QUERIES + STATS_BASE])], dtype=np.float64)
    )
    cos_dist = np.maximum(1 - q @ b.T, 0)
    tenth = np.partition(cos_dist, STATS_NEIGHBOUR - 1, axis=1)[:, STATS_NEIGHBOUR - 1]
    euclid = np.sqrt(2 * cos_dist)
    print(f"file: {path}")
    print(f"n: {n}")
    print(f"dims: {dims}")
    print(f"variance share of top {TOP} PCs ({len(sub)} rows): {eig[:TOP].sum() / eig.sum():.4f}")
    print(f"variance share of top 32 PCs: {eig[:32].sum() / eig.sum():.4f}")
    print(f"mean cosine of random pairs: {1 - cos_dist.mean():.4f}")
    print(
        f"contrast ({len(q)} queries, {len(b)} rows, {STATS_NEIGHBOUR}th neighbour):"
        f" cosine distance {tenth.mean():.4f} / {cos_dist.mean():.4f} ="
        f" {tenth.mean() / cos_dist.mean():.4f}; Euclidean"
        f" {np.sqrt(2 * tenth).mean():.4f} / {euclid.mean():.4f} ="
        f" {np.sqrt(2 * tenth).mean() / euclid.mean():.4f}"
    )


def usage():
    sys.exit(__doc__.split("\n\n")[1])


def main(argv):
    if len(argv) == 3 and argv[0] == "fit":
        fit(argv[1], argv[2])
    elif len(argv) in (6, 8) and argv[0] == "sample":
        csv_path = None
        if len(argv) == 8:
            if argv[6] != "--csv":
                usage()
            csv_path = argv[7]
        sample(argv[1], int(argv[2]), int(argv[3]), int(argv[4]), argv[5], csv_path)
    elif len(argv) == 5 and argv[0] == "truth":
        truth(argv[1], argv[2], int(argv[3]), argv[4])
    elif len(argv) == 2 and argv[0] == "stats":
        stats(argv[1])
    else:
        usage()


if __name__ == "__main__":
    main(sys.argv[1:])
