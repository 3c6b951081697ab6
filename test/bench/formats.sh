#!/usr/bin/env bash
# Native against packed collections on each data set (test/bench/formats.py):
# recall@10, read units priced by DynamoDB's rules, requests, round trips,
# latency on loopback and through a proxy adding 3 ms a request, storage.
#
#   bash test/bench/formats.sh [[LABEL=]SET:BASE:QUERIES[:METRIC] ...]
#
# Default sets: the digits, two sets of learned word vectors that
# test/tools/wordvecs.sh trains (large: dict-gcide, 39,997 x 100; docs:
# Debian's documentation, 26,384 x 128; cosine, 1,000 held-out words each),
# Fashion-MNIST (60,000, and 1,000 test images), and the two 384-dimension
# sets of test/tools/textsets.sh (text384: chunks of Debian's documentation
# embedded by TF-IDF and SVD, 40,000, whose top 128 components hold 55% of
# the variance; lowcontrast384: 50 noisy Gaussian clusters, 40,000; cosine,
# 1,000 queries each).  Every id is a UUID.  Results go
# to test/bench/build/formats.json and the "Native and packed collections"
# section of BENCHMARKS.md; WL_FORMATS_TARGETS lists the recall targets
# swept on packed collections (0.8,0.9,0.95,0.99), WL_FORMATS_FORMATS the
# formats (native,packed), and WL_FORMATS_SECTION and WL_FORMATS_TITLE name
# another section (and its results file) to write instead, with
# WL_FORMATS_COMMAND the command it names as the one that measured it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
source test/tools/deps.sh
WL_LOG_DIR=$(mktemp -d -t whiplash-formats.XXXXXX)
export WL_LOG_DIR
source test/tools/servers.sh
wl_install_deps
[[ -d /usr/share/datasets/fashion-mnist ]] ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null
export WL_BENCH_WORDS=$ROOT/test/bench/build/words WL_BENCH_DOCS=$ROOT/test/bench/build/docs
export WL_BENCH_TEXT384=$ROOT/test/bench/build/text384
export WL_BENCH_LOWCONTRAST=$ROOT/test/bench/build/lowcontrast384
sets=("$@")
if ((${#sets[@]} == 0)) || [[ " ${sets[*]}" == *words:* || " ${sets[*]}" == *docs:* ]]; then
    bash test/tools/wordvecs.sh large "$WL_BENCH_WORDS"
    bash test/tools/wordvecs.sh docs "$WL_BENCH_DOCS"
fi
if ((${#sets[@]} == 0)) || [[ " ${sets[*]}" == *text384:* ]]; then
    bash test/tools/textsets.sh text384 "$WL_BENCH_TEXT384"
fi
if ((${#sets[@]} == 0)) || [[ " ${sets[*]}" == *lowcontrast384:* ]]; then
    bash test/tools/textsets.sh lowcontrast384 "$WL_BENCH_LOWCONTRAST"
fi
make -s WERROR=1 >/dev/null && make -s install >/dev/null
mkdir -p test/bench/build
if ((${#sets[@]} == 0)); then
    sets=(digits:1697:100)
    for words in words docs; do
        folder=$ROOT/test/bench/build/$words
        sets+=("$words:$(wc -l <"$folder/vectors.csv"):1000:cosine")
    done
    sets+=(fmnist:60000:1000 text384:40000:1000:cosine lowcontrast384:40000:1000:cosine)
fi

trap wl_stop_all EXIT
export NODE_OPTIONS="--max-old-space-size=16384"
wl_start_dynalite 18461
wl_start_sigcheck 18462 http://127.0.0.1:18461 bench:bench
wl_start_fault 18463 http://127.0.0.1:18462 sleep:0.003
export WL_FORMATS_DIRECT=http://127.0.0.1:18461 WL_FORMATS_PRICED=http://127.0.0.1:18462
export WL_FORMATS_FAR=http://127.0.0.1:18463
echo "formats benchmark: logs in $WL_LOG_DIR"
# -t: a cluster of its own in a temporary folder, so that it can run beside the suite
results=test/bench/build/${WL_FORMATS_SECTION:-formats}.json
pg_virtualenv -t -v 15 /usr/bin/python3 test/bench/formats.py "$results" "${sets[@]}"
/usr/bin/python3 test/bench/formats_report.py "$results" BENCHMARKS.md \
    "${WL_FORMATS_COMMAND:-bash test/bench/formats.sh${*:+ $*}}"
echo "wrote the ${WL_FORMATS_SECTION:-formats} section of BENCHMARKS.md"
