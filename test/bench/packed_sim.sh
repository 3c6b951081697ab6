#!/usr/bin/env bash
# Builds packed_sim.c with the project's warnings and runs it: the packed
# format's search simulated in memory (no server).
#   bash test/bench/packed_sim.sh VECTORS.csv QUERIES.csv METRIC NQUERIES [key=value ...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
mkdir -p test/bench/build
cc -std=gnu11 -O2 -Wall -Wextra -Wno-unused-parameter -Werror -I src/core \
    -o test/bench/build/packed_sim test/bench/packed_sim.c src/core/model.c src/core/model_train.c src/core/model_bytes.c src/core/calibrate.c src/core/calibrate_text.c src/core/recordname.c src/core/tune.c src/core/cells.c src/core/lsh.c \
    src/core/distance.c src/core/store.c src/core/attrs.c src/core/ddbjson.c -ljson-c -lcrypto -lm
exec test/bench/build/packed_sim "$@"
