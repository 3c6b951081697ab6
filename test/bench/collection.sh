#!/usr/bin/env bash
# Collection benchmark against dynalite on 127.0.0.1: INSERT ... SELECT
# throughput, recall@10, vectors read, requests and round trips per search,
# on Fashion-MNIST (Debian's dataset-fashion-mnist).
#   bash test/bench/collection.sh [VECTORS (10000)] [QUERIES (100)]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
source test/tools/deps.sh
source test/tools/servers.sh
wl_install_deps
if [[ ! -d /usr/share/datasets/fashion-mnist ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi
make -s >/dev/null && make -s install >/dev/null
WL_LOG_DIR=$(mktemp -d -t whiplash-bench.XXXXXX)
export WL_LOG_DIR
trap wl_stop_all EXIT
wl_start_dynalite 18402
echo "collection benchmark: dynalite (in memory) on 127.0.0.1, $(nproc) cores, $(date -u +%F)"
WHIPLASH_ENDPOINT=http://127.0.0.1:18402 WHIPLASH_BENCH="$ROOT/test/bench" \
    WHIPLASH_BENCH_N=${1:-10000} WHIPLASH_BENCH_Q=${2:-100} \
    pg_virtualenv -v 15 psql -X -q -v ON_ERROR_STOP=1 -f "$ROOT/test/bench/collection.sql"
