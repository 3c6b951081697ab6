#!/usr/bin/env bash
# Read units a search costs against a collection's size, simulated in memory
# (test/bench/packed_sim.c) on sets shaped like learned text embeddings:
#
#   bash test/bench/scale_sim.sh [WORKDIR]      (default /tmp/whiplash-scale)
#
# 1. Builds the learned 384-dimension set (test/tools/textsets.sh text384),
#    fits test/bench/embedding_model.py's model to it, and samples from it,
#    seeded: 1,000,000 base vectors (seed 1; the first 100,000 are the
#    100,000 set), 1,000 queries (seed 2), and their exact 10 nearest at both
#    sizes.
# 2. Simulates, on 500 queries, each size with the index a build plans for
#    it (wl_packed_size_cells: 1,449 cells in 39 groups at 100,000, 5,461 in
#    74 at 1,000,000; test/unit/test_store.c asserts the plan) and with the
#    plan before groups (640 cells, the most one k-means trains at 384
#    dimensions), each reading 1,000 to 16,000 codes and re-ranking 20 or 40.
# 3. The same at 768 dimensions (the model's vectors lifted by a fixed
#    rotation, with noise in the other 384: embedding_model.py), 100,000 and
#    500,000 (the plan: 1,449 cells in 39 groups, and 2,730 in 53, as many as
#    the sample allows at 768 dimensions).
# 4. The 384-dimension plans again with each vector also stored in a second
#    cell (packed_sim's spill=1, ScaNN's SOAR choice), which the format does
#    not do yet: what it would save.
# 5. Prints, per size and plan, the cheapest reads that reach recall@10 0.95
#    against the exact neighbours (scale_sim.txt in WORKDIR has every point).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK=${1:-/tmp/whiplash-scale}
mkdir -p "$WORK"
cd "$WORK"
em="/usr/bin/python3 $ROOT/test/bench/embedding_model.py"

bash "$ROOT/test/tools/textsets.sh" text384 "$WORK/text384"
[[ -s text384.npz ]] || $em fit text384/vectors.csv text384.npz
[[ -s base384_1m.fvecs ]] || $em sample text384.npz 384 1000000 1 base384_1m.fvecs
[[ -s base384_100k.fvecs ]] || $em sample text384.npz 384 100000 1 base384_100k.fvecs
[[ -s queries384.fvecs ]] || $em sample text384.npz 384 1000 2 queries384.fvecs
[[ -s base768_500k.fvecs ]] || $em sample text384.npz 768 500000 1 base768_500k.fvecs
[[ -s base768_100k.fvecs ]] || $em sample text384.npz 768 100000 1 base768_100k.fvecs
[[ -s queries768.fvecs ]] || $em sample text384.npz 768 1000 2 queries768.fvecs
for set in 384_100k 384_1m 768_100k 768_500k; do
    [[ -s truth$set.ivecs ]] ||
        $em truth base$set.fvecs queries${set%_*}.fvecs 10 truth$set.ivecs
done

sim() {
    local dims=$1 size=$2 plan=$3
    shift 3
    echo "== $dims:$size $plan"
    bash "$ROOT/test/bench/packed_sim.sh" "$WORK/base${dims}_$size.fvecs" \
        "$WORK/queries$dims.fvecs" cosine 500 truth="$WORK/truth${dims}_$size.ivecs" \
        tables=1 rotation=384 subspaces=192 keep=0.99 rerank=20,40 "$@"
}
wide=codes=1000,1500,2000,3000,4000,6000,8000,12000,16000
{
    sim 384 100k grouped cells=1449 groups=39 $wide
    sim 384 100k before cells=640 $wide
    sim 384 1m grouped cells=5461 groups=74 $wide
    sim 384 1m before cells=640 $wide
    sim 768 100k grouped cells=1449 groups=39 $wide
    sim 768 500k grouped cells=2730 groups=53 $wide
    sim 384 100k spill cells=1449 groups=39 spill=1 codes=400,600,800,1000,1500,2000
    sim 384 1m spill cells=5461 groups=74 spill=1 codes=1500,2000,3000,4000,6000
} | tee scale_sim.txt

echo "== the cheapest reads reaching recall@10 0.95"
awk '/^== /{ set = $2 " " $3 }
     /^probes=/{ split($0, f, /[ =]/); for (i = 1; i in f; i += 2) v[f[i]] = f[i + 1];
                 if (v["recall"] >= 0.95 && (!(set in best) || v["units"] < best[set])) {
                     best[set] = v["units"]; line[set] = $0 } }
     END { for (s in line) print s ": " line[s] }' scale_sim.txt | sort
