#!/usr/bin/env bash
# Wide text-like embeddings on the server: packed collections of 40,000
# vectors of 768 and of 1,536 dimensions (the widths of BERT-base and of
# OpenAI's embeddings), drawn from test/bench/embedding_model.py's model of
# the learned text384 set and lifted by its fixed rotation, with noise in the
# added dimensions (seed 1; 1,000 queries drawn with seed 2), cosine, UUID
# ids, at the default settings and by recall target, through formats.sh.
# Each load waits for the background index build it starts.  Results go to
# test/bench/build/wide.json and the "Wide text-like vectors" section of
# BENCHMARKS.md.
#
#   bash test/bench/wide.sh
#
# The data (about 370 MB) is made in test/bench/build/gen768 and gen1536 once.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT/test/bench"
build=$ROOT/test/bench/build
em="/usr/bin/python3 $ROOT/test/bench/embedding_model.py"
bash "$ROOT/test/tools/textsets.sh" text384 "$build/text384"
mkdir -p "$build/gen384"
[[ -s $build/gen384/model.npz ]] || $em fit "$build/text384/vectors.csv" "$build/gen384/model.npz"
for dims in 768 1536; do
    mkdir -p "$build/gen$dims"
    [[ -s $build/gen$dims/base.fvecs ]] ||
        $em sample "$build/gen384/model.npz" $dims 40000 1 "$build/gen$dims/base.fvecs"
    [[ -s $build/gen$dims/queries.fvecs ]] ||
        $em sample "$build/gen384/model.npz" $dims 1000 2 "$build/gen$dims/queries.fvecs"
done
export WL_BENCH_GEN768=$build/gen768 WL_BENCH_GEN1536=$build/gen1536
export WL_FORMATS_FORMATS=packed WL_FORMATS_TARGETS=0.9,0.95 WL_FORMATS_SECTION=wide
export WL_FORMATS_TITLE="Wide text-like vectors: packed search at 768 and 1,536 dimensions"
export WL_FORMATS_COMMAND="bash test/bench/wide.sh"
exec bash formats.sh gen768=gen768:40000:1000:cosine gen1536=gen1536:40000:1000:cosine
