#!/usr/bin/env bash
# Filtered searches through a foreign table's WHERE (test/bench/filtered.py):
# recall@10 against exact filtered brute force, read units priced by
# DynamoDB's rules, round trips, and EXPLAIN (VERBOSE)'s estimate of them,
# for predicates that 10%, 1%, 0.1% and none of the vectors pass, with the
# tag column plain and filterable (WL_FILTERED_MODES=records: filterable
# only).
#
#   bash test/bench/filtered.sh [SET:BASE:QUERIES[:METRIC] ...]
#
# Default sets: text384 (test/tools/textsets.sh; 40,000 x 384, cosine) and
# Fashion-MNIST (60,000 x 784), 50 queries each (a search that reads every
# vector takes seconds against dynalite); lowcontrast384 (textsets.sh) is
# built when named.  Every id is a UUID.
# Results go to test/bench/build/filtered.json and the "Filtered search"
# section of BENCHMARKS.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
source test/tools/deps.sh
WL_LOG_DIR=$(mktemp -d -t whiplash-filtered.XXXXXX)
export WL_LOG_DIR
source test/tools/servers.sh
source test/bench/priced.sh
wl_install_deps
sets=("$@")
((${#sets[@]} > 0)) || sets=(text384:40000:50:cosine fmnist:60000:50)
wl_bench_prepare "${sets[@]}"

trap wl_stop_all EXIT
wl_bench_start_priced 18471
echo "filtered benchmark: logs in $WL_LOG_DIR"
pg_virtualenv -t -v 15 /usr/bin/python3 test/bench/filtered.py test/bench/build/filtered.json "${sets[@]}"
/usr/bin/python3 test/bench/filtered_report.py test/bench/build/filtered.json BENCHMARKS.md \
    "bash test/bench/filtered.sh${*:+ $*}"
echo "wrote the filtered section of BENCHMARKS.md"
