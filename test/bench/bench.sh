#!/usr/bin/env bash
# The benchmark suite: Fashion-MNIST and scikit-learn's digits (real sets),
# a synthetic clustered set grown 10k -> 100k (-> 1M), against a local
# DynamoDB server on 127.0.0.1, with the exact DynamoDB requests of sample
# searches and writes replayed bare (test/bench/replay.c) as the floor.
# Writes BENCHMARKS.md and test/bench/*.png from the results.
#
#   bash test/bench/bench.sh
#
# Settings (environment):
#   WL_BENCH_FMNIST   Fashion-MNIST vectors stored (60000, all of them)
#   WL_BENCH_QUERIES  its test images searched (200)
#   WL_BENCH_SECONDS  seconds of each pgbench and bare throughput run (30)
#   WL_BENCH_SCALE    sizes the clustered collection grows through
#                     (10000,100000; add 1000000 for the million)
#   WL_BENCH_SERVER   dynalite (default) or ddblocal (DynamoDB Local)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
source test/tools/deps.sh
WL_LOG_DIR=$(mktemp -d -t whiplash-bench.XXXXXX)
export WL_LOG_DIR
source test/tools/servers.sh
wl_install_deps
missing=()
[[ -d /usr/share/datasets/fashion-mnist ]] || missing+=(dataset-fashion-mnist)
command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
if ((${#missing[@]})); then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
make -s WERROR=1 >/dev/null && make -s install >/dev/null

mkdir -p test/bench/build
core=(src/core/dynamodb.c src/core/http.c src/core/sigv4.c)
cc -std=gnu11 -O2 -Wall -Wextra -Werror -I src/core -o test/bench/build/replay \
    test/bench/replay.c "${core[@]}" -lcurl -ljson-c -lcrypto -lpthread
hash_src=(test/bench/hash_bench.c src/core/meta.c src/core/format.c src/core/format_lsh.c src/core/format_v1.c
          src/core/format_native.c src/core/format_packed.c src/core/packed_meta.c
          src/core/packed_plan.c src/core/packed_models.c src/core/packed_attrs.c src/core/packed_keys.c src/core/attrstats.c src/core/recordattrs.c src/core/predicate.c src/core/recordname.c src/core/model.c
          src/core/model_train.c src/core/model_bytes.c src/core/cells.c src/core/calibrate.c src/core/calibrate_text.c
          src/core/operations.c
          src/core/dynamodb.c src/core/http.c
          src/core/sigv4.c src/core/lsh.c src/core/distance.c src/core/store.c src/core/ddbjson.c)
cc -std=gnu11 -O2 -ffp-contract=off -Wall -Wextra -Wno-unused-parameter -Werror -I src/core \
    -o test/bench/build/hash_bench "${hash_src[@]}" -lcurl -ljson-c -lcrypto -lm
cc -std=gnu11 -O2 -march=native -ffp-contract=off -Wall -Wextra -Wno-unused-parameter -Werror \
    -I src/core -o test/bench/build/hash_bench_native "${hash_src[@]}" -lcurl -ljson-c -lcrypto -lm

trap wl_stop_all EXIT
export WL_BENCH_DDB_PORT=18451 WL_BENCH_RECORD_PORT=18452
export WL_BENCH_LOG="$WL_LOG_DIR/requests.jsonl"
export WL_BENCH_SERVER=${WL_BENCH_SERVER:-dynalite}
# dynalite keeps every item in the Node.js heap: a million vectors are 11
# million items, more than Node's default heap limit.
export NODE_OPTIONS="--max-old-space-size=16384"
if [[ $WL_BENCH_SERVER == ddblocal ]]; then
    wl_start_ddblocal "$WL_BENCH_DDB_PORT"
else
    wl_start_dynalite "$WL_BENCH_DDB_PORT"
fi
wl_start_record "$WL_BENCH_RECORD_PORT" "$WL_BENCH_DDB_PORT" "$WL_BENCH_LOG"

echo "benchmark: $WL_BENCH_SERVER on 127.0.0.1, logs in $WL_LOG_DIR"
pg_virtualenv -t -v 15 /usr/bin/python3 test/bench/bench.py "$WL_LOG_DIR"
/usr/bin/python3 test/bench/report.py "$WL_LOG_DIR/results.json" \
    "bash test/bench/bench.sh" BENCHMARKS.md test/bench
