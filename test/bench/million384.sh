#!/usr/bin/env bash
# A million vectors shaped like learned text embeddings, on the server:
# packed collections of 100,000 and 1,000,000 vectors of 384 dimensions
# drawn from test/bench/embedding_model.py's model of the learned text384 set
# (seed 1; the 100,000 are the million's first), searched with 1,000 queries
# drawn from it (seed 2), cosine, UUID ids, at the default settings and by
# recall target, through formats.sh.  Each load waits for the background
# index build it starts.  Results go to test/bench/build/million384.json and
# the "A million text-like vectors" section of BENCHMARKS.md.
#
#   bash test/bench/million384.sh
#
# The data (1.5 GB) is made in test/bench/build/gen384 once; the load of the
# million takes about an hour against dynalite on 2 cores.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT/test/bench"
gen=$ROOT/test/bench/build/gen384
em="/usr/bin/python3 $ROOT/test/bench/embedding_model.py"
mkdir -p "$gen"
bash "$ROOT/test/tools/textsets.sh" text384 "$ROOT/test/bench/build/text384"
[[ -s $gen/model.npz ]] || $em fit "$ROOT/test/bench/build/text384/vectors.csv" "$gen/model.npz"
[[ -s $gen/base.fvecs ]] || $em sample "$gen/model.npz" 384 1000000 1 "$gen/base.fvecs"
[[ -s $gen/queries.fvecs ]] || $em sample "$gen/model.npz" 384 1000 2 "$gen/queries.fvecs"
export WL_BENCH_GEN384=$gen
export WL_FORMATS_FORMATS=packed WL_FORMATS_TARGETS=0.9,0.95 WL_FORMATS_SECTION=million384
export WL_FORMATS_TITLE="A million text-like vectors: packed search at 100,000 and 1,000,000 of 384 dimensions"
export WL_FORMATS_COMMAND="bash test/bench/million384.sh"
exec bash formats.sh gen384_100k=gen384:100000:1000:cosine gen384_1m=gen384:1000000:1000:cosine
