#!/usr/bin/env bash
# Measures the core DynamoDB client's request rate against dynalite on
# 127.0.0.1: sequential GetItem calls and 4, 16, 64 calls in flight at once.
#   bash test/bench/client.sh [SECONDS_PER_LEVEL]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
source test/tools/deps.sh
source test/tools/servers.sh
wl_install_deps
trap wl_stop_all EXIT

mkdir -p test/bench/build
cc -std=gnu11 -O2 -Wall -Wextra -Werror -I src/core -o test/bench/build/client_bench \
    test/bench/client_bench.c src/core/dynamodb.c src/core/operations.c src/core/http.c src/core/sigv4.c \
    -lcurl -ljson-c -lcrypto
wl_start_dynalite 18401
echo "client against dynalite (in memory) on 127.0.0.1, $(nproc) cores, $(date -u +%F)"
test/bench/build/client_bench http://127.0.0.1:18401 "${1:-3}"
