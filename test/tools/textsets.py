"""Helper of test/tools/textsets.sh (read its header first); run with
Debian's /usr/bin/python3, which has python3-numpy and python3-sklearn.

    textsets.py text384 CORPUS OUTDIR     # CORPUS: one paragraph a line
    textsets.py lowcontrast384 OUTDIR

Writes OUTDIR/vectors.csv, OUTDIR/queries.csv and OUTDIR/info.txt.  Every
random choice comes from a numpy Generator or an sklearn random_state seeded
with SEED; textsets.sh also pins BLAS to one thread, so that two runs give
byte-identical files.
"""
import sys
import time
import uuid

import numpy as np

SEED = 1
DIM = 384
N_BASE = 40000
N_QUERIES = 1000
TOP = 128  # the variance share of the top TOP principal components

# text384
CHUNK_TOKENS = 150  # a chunk is consecutive paragraphs of >= this many tokens
MIN_DF = 5  # words in fewer chunks than this are not TF-IDF terms
SVD_ITER = 5

# lowcontrast384
CLUSTERS = 50
CENTRE_STD = 0.5  # per dimension; the noise around a centre has std 1

ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "whiplash:test/tools/textsets")


def top_share(x, top=TOP):
    """Fraction of the variance of x (rows are points, centred here) held by
    its top `top` principal components."""
    c = x - x.mean(axis=0)
    s = np.linalg.svd(c, compute_uv=False) ** 2
    return float(s[:top].sum() / s.sum())


def mean_random_cosine(x, rng, pairs=100000):
    """Mean cosine similarity of random pairs of distinct rows (anisotropy)."""
    i = rng.integers(0, len(x), pairs)
    j = rng.integers(0, len(x), pairs)
    keep = i != j
    a, b = x[i[keep]], x[j[keep]]
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return float(cos.mean())


def fmt_rows(x):
    return [",".join("%.6g" % v for v in row) for row in x]


def write_set(outdir, name, ids, rows, queries_at, info):
    """rows: formatted vectors (no id), all distinct; the first queries_at
    rows are the queries, the rest the base set."""
    with open(f"{outdir}/queries.csv", "w") as q:
        for k in range(queries_at):
            q.write(f"{ids[k]},{rows[k]}\n")
    with open(f"{outdir}/vectors.csv", "w") as v:
        for k in range(queries_at, len(rows)):
            v.write(f"{ids[k]},{rows[k]}\n")
    with open(f"{outdir}/info.txt", "w") as f:
        f.write(f"set: {name}\n")
        for key, val in info.items():
            f.write(f"{key}: {val}\n")


def dedupe(x, keys):
    """Drops all-zero rows and rows whose printed form (%.6g) repeats an
    earlier row.  Returns (x, keys, rows) of the rows kept."""
    rows = fmt_rows(x)
    seen = set()
    keep = []
    for k, r in enumerate(rows):
        if r in seen or not np.any(x[k]):
            continue
        seen.add(r)
        keep.append(k)
    return x[keep], [keys[k] for k in keep], [rows[k] for k in keep]


def text384(corpus, outdir):
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    t0 = time.time()
    chunks, cur = [], []
    with open(corpus) as f:
        for line in f:
            cur += line.split()
            if len(cur) >= CHUNK_TOKENS:
                chunks.append(" ".join(cur))
                cur = []
    print(f"   {len(chunks)} chunks of >= {CHUNK_TOKENS} tokens", flush=True)
    tfidf = TfidfVectorizer(min_df=MIN_DF, sublinear_tf=True, token_pattern=r"[a-z]+")
    m = tfidf.fit_transform(chunks)
    print(f"   TF-IDF matrix {m.shape[0]} x {m.shape[1]} ({time.time() - t0:.0f} s)", flush=True)
    svd = TruncatedSVD(DIM, algorithm="randomized", n_iter=SVD_ITER, random_state=SEED)
    x = svd.fit_transform(m)
    print(f"   truncated SVD to {DIM} ({time.time() - t0:.0f} s)", flush=True)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
    # Shuffle with the seed, then drop zero and duplicate vectors: the
    # first N_QUERIES are queries, the next N_BASE the base set.
    order = np.random.default_rng(SEED).permutation(len(x))
    x, keys, rows = dedupe(x[order], [int(k) for k in order])
    dropped = len(order) - len(rows)
    n = min(len(rows), N_QUERIES + N_BASE)
    x, keys, rows = x[:n], keys[:n], rows[:n]
    ids = [str(uuid.uuid5(ID_NAMESPACE, f"text384/chunk/{k}")) for k in keys]
    base = x[N_QUERIES:]
    info = {
        "n": len(base),
        "queries": N_QUERIES,
        "dims": DIM,
        f"variance share of top {TOP} PCs (base, centred)": f"{top_share(base):.4f}",
        "variance share of top 32 PCs": f"{top_share(base, 32):.4f}",
        "mean cosine of random base pairs": f"{mean_random_cosine(base, np.random.default_rng(SEED)):.4f}",
        "seed": SEED,
        "source": f"{len(chunks)} chunks of >= {CHUNK_TOKENS} tokens, TF-IDF (sublinear tf, min_df {MIN_DF}, "
        f"{m.shape[1]} terms), TruncatedSVD randomized n_iter {SVD_ITER} random_state {SEED}, L2-normalised",
        "zero or duplicate vectors dropped": dropped,
        "svd explained variance ratio (sum of 384)": f"{svd.explained_variance_ratio_.sum():.4f}",
    }
    write_set(outdir, "text384", ids, rows, N_QUERIES, info)
    print(f"   wrote {len(base)} base vectors, {N_QUERIES} queries ({time.time() - t0:.0f} s)", flush=True)


def lowcontrast384(outdir):
    rng = np.random.default_rng(SEED)
    total = N_BASE + N_QUERIES
    centres = rng.standard_normal((CLUSTERS, DIM)) * CENTRE_STD
    labels = rng.integers(0, CLUSTERS, total)
    x = centres[labels] + rng.standard_normal((total, DIM))
    # Queries first, as in text384: rows 0..N_QUERIES-1 are the queries.
    x, keys, rows = dedupe(x, list(range(total)))
    assert len(rows) == total, "duplicate or zero vector in lowcontrast384"
    ids = [str(uuid.uuid5(ID_NAMESPACE, f"lowcontrast384/{k}")) for k in keys]
    base = x[N_QUERIES:]
    bl = labels[N_QUERIES:]
    within = float(np.mean([base[bl == c].std(axis=0).mean() for c in range(CLUSTERS)]))
    info = {
        "n": len(base),
        "queries": N_QUERIES,
        "dims": DIM,
        f"variance share of top {TOP} PCs (base, centred)": f"{top_share(base):.4f}",
        "mean cosine of random base pairs": f"{mean_random_cosine(base, np.random.default_rng(SEED)):.4f}",
        "seed": SEED,
        "source": f"{CLUSTERS} clusters, centres N(0, {CENTRE_STD}^2) per dim, noise N(0, 1) per dim, "
        f"cluster of each point uniform; not normalised",
        "per-dim std of centres": f"{float(centres.std()):.4f}",
        "mean per-dim within-cluster std": f"{within:.4f}",
    }
    write_set(outdir, "lowcontrast384", ids, rows, N_QUERIES, info)
    print(f"   wrote {len(base)} base vectors, {N_QUERIES} queries", flush=True)


def main(argv):
    if len(argv) == 4 and argv[1] == "text384":
        text384(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "lowcontrast384":
        lowcontrast384(argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
