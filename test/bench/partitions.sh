#!/usr/bin/env bash
# One tenant's search in a partitioned collection, against the same search
# of a collection that holds only that tenant's vectors
# (test/bench/partitions.py): recall@10 against exact brute force, read
# units priced by DynamoDB's rules, requests, round trips and EXPLAIN
# (VERBOSE)'s estimate.
#
#   bash test/bench/partitions.sh [SET:BASE:QUERIES[:METRIC] ...]
#
# Default set: text384 (test/tools/textsets.sh; 40,000 x 384, cosine), 50
# queries; also lowcontrast384 and fmnist.  Every id is a UUID.  Results
# go to test/bench/build/partitions.json (a set run again replaces its
# own) and the "Partitioned collections" section of BENCHMARKS.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
source test/tools/deps.sh
WL_LOG_DIR=$(mktemp -d -t whiplash-partitions.XXXXXX)
export WL_LOG_DIR
source test/tools/servers.sh
wl_install_deps
sets=("$@")
((${#sets[@]} > 0)) || sets=(text384:40000:50:cosine)
[[ " ${sets[*]}" != *fmnist:* || -d /usr/share/datasets/fashion-mnist ]] ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null
export WL_BENCH_TEXT384=$ROOT/test/bench/build/text384
export WL_BENCH_LOWCONTRAST=$ROOT/test/bench/build/lowcontrast384
[[ " ${sets[*]}" != *" text384:"* ]] || bash test/tools/textsets.sh text384 "$WL_BENCH_TEXT384"
[[ " ${sets[*]}" != *lowcontrast384:* ]] ||
    bash test/tools/textsets.sh lowcontrast384 "$WL_BENCH_LOWCONTRAST"
make -s WERROR=1 >/dev/null && make -s install >/dev/null
mkdir -p test/bench/build

trap wl_stop_all EXIT
export NODE_OPTIONS="--max-old-space-size=16384"
wl_start_dynalite 18481
wl_start_sigcheck 18482 http://127.0.0.1:18481 bench:bench
export WL_FORMATS_DIRECT=http://127.0.0.1:18481 WL_FORMATS_PRICED=http://127.0.0.1:18482
export WL_FORMATS_FAR=$WL_FORMATS_PRICED
echo "partitions benchmark: logs in $WL_LOG_DIR"
pg_virtualenv -t -v 15 /usr/bin/python3 test/bench/partitions.py test/bench/build/partitions.json \
    "${sets[@]}"
/usr/bin/python3 test/bench/partitions.py report test/bench/build/partitions.json BENCHMARKS.md \
    "bash test/bench/partitions.sh${*:+ $*}"
echo "wrote the partitions section of BENCHMARKS.md"
