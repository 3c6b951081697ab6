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
source test/bench/priced.sh
wl_install_deps
sets=("$@")
((${#sets[@]} > 0)) || sets=(text384:40000:50:cosine)
wl_bench_prepare "${sets[@]}"

trap wl_stop_all EXIT
wl_bench_start_priced 18481
echo "partitions benchmark: logs in $WL_LOG_DIR"
pg_virtualenv -t -v 15 /usr/bin/python3 test/bench/partitions.py test/bench/build/partitions.json \
    "${sets[@]}"
/usr/bin/python3 test/bench/partitions.py report test/bench/build/partitions.json BENCHMARKS.md \
    "bash test/bench/partitions.sh${*:+ $*}"
echo "wrote the partitions section of BENCHMARKS.md"
