#!/usr/bin/env bash
# What writes cost, native against packed (test/bench/writes.py): requests,
# write units and read units per vector inserted, updated and deleted, one
# row a statement and many, as DynamoDB Local reports its ConsumedCapacity,
# and its reported read units of searches beside the priced ones.
#
#   bash test/bench/writes.sh [SET:BASE[:METRIC] ...]
#
# Default sets: 10,000 Fashion-MNIST images (784 dimensions) and 10,000
# synthetic clustered points (32 dimensions).  Results go to
# test/bench/build/writes.json and the "Writes, native and packed" section of
# BENCHMARKS.md; WL_WRITES_ROWS (200) rows are written each way.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
source test/tools/deps.sh
WL_LOG_DIR=$(mktemp -d -t whiplash-writes.XXXXXX)
export WL_LOG_DIR
source test/tools/servers.sh
wl_install_deps
[[ -d /usr/share/datasets/fashion-mnist ]] ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null
make -s WERROR=1 >/dev/null && make -s install >/dev/null
mkdir -p test/bench/build
sets=("$@")
((${#sets[@]} > 0)) || sets=(fmnist:10000 clustered:10000)

trap wl_stop_all EXIT
wl_start_ddblocal 18471
wl_start_sigcheck 18472 http://127.0.0.1:18471 bench:bench
export WL_WRITES_PRICED=http://127.0.0.1:18472
echo "writes benchmark: logs in $WL_LOG_DIR"
pg_virtualenv -t -v 15 /usr/bin/python3 test/bench/writes.py test/bench/build/writes.json "${sets[@]}"
/usr/bin/python3 test/bench/writes_report.py test/bench/build/writes.json BENCHMARKS.md \
    "bash test/bench/writes.sh${*:+ $*}"
echo "wrote the writes section of BENCHMARKS.md"
