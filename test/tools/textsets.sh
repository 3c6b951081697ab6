#!/usr/bin/env bash
# Builds two deterministic 384-dimensional benchmark sets shaped like what
# users store, on a Debian 12 machine, as root:
#
#   bash test/tools/textsets.sh text384|lowcontrast384 OUTDIR
#
# Why
#   The word vectors of wordvecs.sh are learned but their spectrum is steep:
#   fastText cbow at dim 384 on the docs and dict-gcide corpora (61,468
#   words) puts 93% of the variance in its top 128 principal components.
#   Sentence and chunk embeddings (the 384-dimensional ones users store)
#   spread their variance much more evenly -- about 55-65% in the top 128
#   -- which makes quantisation and partitioning harder.  text384 is a
#   learned text embedding with such a flat spectrum; lowcontrast384 is a
#   synthetic set with low contrast (each point's nearest neighbour is
#   hardly nearer than a random point), the hard case for cosine search.
#
# What it does
#   1. Installs, with apt-get, whichever of these is missing:
#      python3-numpy and (text384) python3-sklearn, for Debian's
#      /usr/bin/python3, and (text384) the four documentation packages of
#      wordvecs.sh's docs set: linux-doc-6.1, python3.11-doc,
#      postgresql-doc-15 and perl-doc (debpkgs.sh, which waits for another
#      apt or dpkg run rather than fail).
#   2. text384: has `wordvecs.sh docs-corpus` tokenise the documentation
#      as wordvecs.sh docs does (the same HTML cutting, lower-case a-z
#      words of 2+ letters, one paragraph a line: 449,713 paragraphs, 7.85
#      million tokens), then textsets.py
#        - cuts the paragraphs, in order, into chunks of consecutive
#          paragraphs of at least 150 tokens, the way retrieval systems
#          chunk documents (45,702 chunks; a chunk may span two pages);
#        - embeds each chunk with TF-IDF (sublinear tf, words in 5+
#          chunks: 22,077 terms, rows L2-normalised) and a truncated
#          SVD (latent semantic analysis) to 384 dimensions (sklearn
#          TruncatedSVD, randomized, n_iter 5, random_state 1), then
#          L2-normalises each vector, as sentence-embedding models do;
#        - shuffles the chunks with numpy's default_rng(1), drops zero
#          vectors and vectors whose printed form repeats an earlier one;
#          the first 1,000 are the queries, the next 40,000 the base set.
#      lowcontrast384: textsets.py draws, with default_rng(1), 50 cluster
#      centres with coordinates N(0, 0.5^2), then 41,000 points, each a
#      uniformly chosen centre plus N(0, 1) noise in every coordinate (so
#      the noise std, 1, exceeds the per-coordinate std of the difference
#      of two centres, 0.71).  Not normalised.  The first 1,000 points are
#      the queries, the other 40,000 the base set.
#   3. Writes to OUTDIR:
#        vectors.csv  the base set, "id,x1,...,x384", no header, floats as
#                     %.6g.  id is a lower-case canonical UUID, version 5
#                     (SHA-1) of the chunk's position in the corpus
#                     (text384) or of the point's number (lowcontrast384),
#                     so a chunk keeps its id when others change.
#        queries.csv  1,000 held-out queries, same format and distribution;
#                     no query vector is in vectors.csv.
#        info.txt     n, dims, the share of the variance of the centred
#                     base set in its top 128 principal components, the
#                     seed, and how the set was made.
#        .textsets.stamp  the parameters, package versions and the sha256
#                     of textsets.py and (text384) of wordvecs.sh, which
#                     holds the tokenising; when it matches and the files
#                     exist the script does nothing.
#   Python runs with one BLAS/OpenMP thread: multi-threaded BLAS can sum
#   in a different order from run to run, and the SVD would then differ in
#   the last bits.
#
# Measured on this project's 2-core machine: install of the four docs
# packages 12-14 s; text384 66 s (tokenising 7 s, TF-IDF 3 s, SVD 44 s,
# writing 12 s); lowcontrast384 10 s (95 s and 24 s when both run at
# once).  Results:
#   text384:        40,000 base, 1,000 queries, unit vectors; the top 128
#                   PCs hold 54.6% of the variance (top 32: 25.1%); mean
#                   cosine of random pairs 0.13; 22,077 TF-IDF terms; 217
#                   duplicate chunks dropped (repeated boilerplate).
#                   Near-duplicates remain, as in real collections: 24 of
#                   the 1,000 queries have a base vector within cosine
#                   distance 0.05 (1 within 1e-4); the median distance to
#                   the nearest is 0.29.
#   lowcontrast384: 40,000 base, 1,000 queries; the top 128 PCs hold 48.5%
#                   of the variance; mean cosine of random pairs 0.003;
#                   the mean cosine distance to the nearest base vector is
#                   0.67 against 1.00 to a random one.
# (info.txt has the exact figures.)  Two runs gave byte-identical files.
# Output depends only on this script, textsets.py, (text384) wordvecs.sh
# and the versions of the packages, all recorded in the stamp (a change
# rebuilds; any edit of wordvecs.sh rebuilds text384): python3-numpy
# 1:1.24.2-1+deb12u1 (numpy does not promise the same random numbers
# across its releases), and for text384 python3-sklearn 1.2.1+dfsg-1 and
# the docs packages, which get Debian point and security updates (see
# wordvecs.sh).
set -euo pipefail
export LC_ALL=C

usage() { echo "usage: bash test/tools/textsets.sh text384|lowcontrast384 OUTDIR" >&2; exit 2; }
(($# == 2)) || usage
set_name=$1
outdir=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
helper=$here/textsets.py
wordvecs=$here/wordvecs.sh
python=/usr/bin/python3
# shellcheck source=test/tools/debpkgs.sh
source "$here/debpkgs.sh"

docs_pkgs=(linux-doc-6.1 python3.11-doc postgresql-doc-15 perl-doc)
case $set_name in
    text384) pkgs=(python3-numpy python3-sklearn "${docs_pkgs[@]}") ;;
    lowcontrast384) pkgs=(python3-numpy) ;;
    *) usage ;;
esac

say() { echo "== textsets ($set_name): $*"; }
install_missing "${pkgs[@]}"

stamp="textsets v1 set=$set_name helper=$(sha256sum "$helper" | cut -d' ' -f1)"
[[ $set_name != text384 ]] || stamp+=" wordvecs=$(sha256sum "$wordvecs" | cut -d' ' -f1)"
for pkg in "${pkgs[@]}"; do stamp+=" $pkg=$(pkg_version "$pkg")"; done
if [[ -f $outdir/vectors.csv && -f $outdir/queries.csv && -f $outdir/info.txt &&
    -f $outdir/.textsets.stamp ]] && [[ $(cat "$outdir/.textsets.stamp") == "$stamp" ]]; then
    say "up to date in $outdir"
    exit 0
fi

mkdir -p "$outdir"
work=$(mktemp -d "$outdir/.textsets.XXXXXX")
trap 'rm -rf "$work"' EXIT
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONHASHSEED=0

if [[ $set_name == text384 ]]; then
    # wordvecs.sh writes its docs corpus, tokenised as for its docs set.
    bash "$wordvecs" docs-corpus "$work/corpus.txt"
    say "embedding chunks (TF-IDF, truncated SVD to 384, seed 1, 1 thread)"
    "$python" "$helper" text384 "$work/corpus.txt" "$work"
else
    say "drawing 50 clusters, 41,000 points (seed 1)"
    "$python" "$helper" lowcontrast384 "$work"
fi

rm -f "$outdir/.textsets.stamp"
for f in vectors.csv queries.csv info.txt; do mv "$work/$f" "$outdir/$f"; done
printf '%s\n' "$stamp" >"$outdir/.textsets.stamp"
say "done: $(wc -l <"$outdir/vectors.csv") base vectors, $(wc -l <"$outdir/queries.csv") queries in $outdir"
sed 's/^/   /' "$outdir/info.txt"
