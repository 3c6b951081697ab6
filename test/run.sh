#!/usr/bin/env bash
# Runs every whiplash test on a Debian 12 machine, as root:
#   1. installs the Debian and pinned npm packages it needs;
#   2. builds the extension with -Wall -Wextra -Werror and installs it;
#   3. runs the C unit tests of the Postgres-free core;
#   4. starts dynalite and AWS DynamoDB Local on 127.0.0.1, each behind the
#      SigV4-checking proxy and fault-injecting proxies, and runs the
#      pg_regress suite against each in turn in a throw-away cluster;
#   5. stops what it started and prints "N passed, N failed" last.
# Exits non-zero when anything failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source test/tools/deps.sh
source test/tools/servers.sh

WL_LOG_DIR=$(mktemp -d -t whiplash-test.XXXXXX)
export WL_LOG_DIR
passed=0
failed=0

# Test credentials: DynamoDB Local wants alphanumeric key ids.
KEY=whiplashtestkey
SECRET=whiplashtestsecret
TOKEN_KEY=whiplashtokenkey
TOKEN_SECRET=whiplashtokensecret
TOKEN=whiplashsessiontoken

finish() {
    wl_stop_all
    echo "logs: $WL_LOG_DIR"
    echo "$passed passed, $failed failed"
}
trap finish EXIT

# Counts TAP lines ("ok N", "not ok N") of the unit tests.
count_tap() {
    local log=$1 ok bad
    ok=$(grep -c '^ok ' "$log")
    bad=$(grep -c '^not ok ' "$log")
    passed=$((passed + ok))
    failed=$((failed + bad))
}

# Counts pg_regress results ("... ok", "... FAILED") and keeps the diffs.
count_regress() {
    local log=$1 name=$2 ok bad
    ok=$(grep -cE '\.\.\. +ok' "$log")
    bad=$(grep -cE '\.\.\. +FAILED|\.\.\. +failed' "$log")
    passed=$((passed + ok))
    failed=$((failed + bad))
    if ((bad > 0 || ok == 0)); then
        [[ -f regression.diffs ]] && cp regression.diffs "$WL_LOG_DIR/regression-$name.diffs" &&
            cat regression.diffs
        if ((ok == 0 && bad == 0)); then
            failed=$((failed + 1))
            echo "pg_regress ran no test against $name"
        fi
    fi
    return 0
}

wl_install_deps || { failed=$((failed + 1)); exit 1; }

echo "== build (-Wall -Wextra -Werror)"
if ! { make clean >/dev/null && make WERROR=1 >"$WL_LOG_DIR/build.log" 2>&1 && make install >>"$WL_LOG_DIR/build.log" 2>&1; }; then
    tail -n 40 "$WL_LOG_DIR/build.log"
    failed=$((failed + 1))
    exit 1
fi

echo "== unit tests of the core"
make -s unittest >"$WL_LOG_DIR/unit.log" 2>&1
unit_status=$?
cat "$WL_LOG_DIR/unit.log" | grep -E '^(not ok|# )' || true
count_tap "$WL_LOG_DIR/unit.log"
((unit_status == 0)) || { grep -q '^not ok' "$WL_LOG_DIR/unit.log" || failed=$((failed + 1)); }

# run_suite NAME SERVER_PORT BASE: runs pg_regress against one DynamoDB
# server, reached through proxies listening on ports BASE+1 ... BASE+4.
# Every server gets the same ports, so that expected output can name them.
run_suite() {
    local name=$1 server=$2 base=$3
    local upstream="http://127.0.0.1:$server"
    echo "== pg_regress against $name"
    wl_start_sigcheck $((base + 1)) "$upstream" "$KEY:$SECRET" "$TOKEN_KEY:$TOKEN_SECRET:$TOKEN" &&
        wl_start_fault $((base + 2)) "$upstream" throttle,500,pass &&
        wl_start_fault $((base + 3)) "$upstream" throttle &&
        wl_start_fault $((base + 4)) "$upstream" hang || { failed=$((failed + 1)); return; }
    WHIPLASH_ENDPOINT="http://127.0.0.1:$((base + 1))" \
        WHIPLASH_SIGCHECK_STATS="http://127.0.0.1:$((base + 1))/__stats" \
        WHIPLASH_FLAKY_ENDPOINT="http://127.0.0.1:$((base + 2))" \
        WHIPLASH_THROTTLED_ENDPOINT="http://127.0.0.1:$((base + 3))" \
        WHIPLASH_HANG_ENDPOINT="http://127.0.0.1:$((base + 4))" \
        WHIPLASH_DIRECT_ENDPOINT="$upstream" WHIPLASH_TOOLS="$ROOT/test/tools" \
        WHIPLASH_DIGITS=/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz \
        WHIPLASH_KEY=$KEY WHIPLASH_SECRET=$SECRET WHIPLASH_TOKEN_KEY=$TOKEN_KEY \
        WHIPLASH_TOKEN_SECRET=$TOKEN_SECRET WHIPLASH_TOKEN=$TOKEN \
        pg_virtualenv -v 15 make installcheck >"$WL_LOG_DIR/regress-$name.log" 2>&1
    grep -E '\.\.\. ' "$WL_LOG_DIR/regress-$name.log"
    count_regress "$WL_LOG_DIR/regress-$name.log" "$name"
}

# WL_BACKENDS picks the servers (default: both), e.g. WL_BACKENDS=dynalite.
for backend in ${WL_BACKENDS:-dynalite dynamodb-local}; do
    case $backend in
        dynalite) wl_start_dynalite 18001 && run_suite dynalite 18001 18010 ;;
        dynamodb-local) wl_start_ddblocal 18001 && run_suite dynamodb-local 18001 18010 ;;
        *) echo "unknown backend $backend"; false ;;
    esac || failed=$((failed + 1))
    wl_stop_all
done

((failed == 0))
