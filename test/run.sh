#!/usr/bin/env bash
# Runs every whiplash test on a Debian 12 machine, as root:
#   1. installs the Debian and pinned npm packages it needs;
#   2. builds the extension with -Wall -Wextra -Werror and installs it;
#   3. runs the C unit tests of the Postgres-free core;
#   4. starts dynalite and AWS DynamoDB Local on 127.0.0.1, each behind the
#      SigV4-checking proxy and fault-injecting proxies, and runs the
#      pg_regress suite against each in turn in a throw-away cluster, then
#      the pgbench concurrency and memory checks (test/stress);
#   5. runs the fuzz targets of test/fuzz for a short while;
#   6. runs the unit tests under AddressSanitizer, LeakSanitizer and UBSan,
#      and the regression suite (against dynalite) under Valgrind memcheck;
#   7. stops what it started and prints "N passed, N failed" last.
# Exits non-zero when anything failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source test/tools/deps.sh
source test/tools/servers.sh

WL_LOG_DIR=$(mktemp -d -t whiplash-test.XXXXXX)
export WL_LOG_DIR
# The test certificate's folder: readable by the cluster's postgres user.
WL_TLS_DIR=$(mktemp -d -t whiplash-tls.XXXXXX)
chmod 755 "$WL_TLS_DIR"
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

# The word vectors of sql/words.sql: trained once, kept in test/build/words.
echo "== word vectors for sql/words.sql (test/tools/wordvecs.sh small)"
WL_WORDS_DIR="$ROOT/test/build/words"
if ! bash test/tools/wordvecs.sh small "$WL_WORDS_DIR" >"$WL_LOG_DIR/wordvecs.log" 2>&1; then
    tail -n 20 "$WL_LOG_DIR/wordvecs.log"
    failed=$((failed + 1))
fi

echo "== unit tests of the core"
make -s unittest >"$WL_LOG_DIR/unit.log" 2>&1
unit_status=$?
cat "$WL_LOG_DIR/unit.log" | grep -E '^(not ok|# )' || true
count_tap "$WL_LOG_DIR/unit.log"
((unit_status == 0)) || { grep -q '^not ok' "$WL_LOG_DIR/unit.log" || failed=$((failed + 1)); }

# The random faults of sql/faults.sql: about one attempt in three fails.
CHAOS_MIX=pass=66,throttle=5,500=5,503=4,reset=5,stall:1=3,truncate=6,garbage=6

# run_suite NAME SERVER_PORT BASE: runs pg_regress against one DynamoDB
# server, reached through proxies listening on ports BASE+1 ... BASE+7.
# Every server gets the same ports, so that expected output can name them.
run_suite() {
    local name=$1 server=$2 base=$3
    local upstream="http://127.0.0.1:$server"
    echo "== pg_regress against $name"
    wl_start_sigcheck $((base + 1)) "$upstream" "$KEY:$SECRET" "$TOKEN_KEY:$TOKEN_SECRET:$TOKEN" &&
        wl_start_fault $((base + 2)) "$upstream" throttle,500,pass &&
        wl_start_fault $((base + 3)) "$upstream" throttle &&
        wl_start_fault $((base + 4)) "$upstream" hang &&
        wl_start_chaos $((base + 5)) "$upstream" "$CHAOS_MIX" 7 &&
        wl_start_fault $((base + 6)) "$upstream" garbage,truncate,stall:1,reset \
            DescribeTable,BatchWriteItem,Query,Scan &&
        wl_start_tls $((base + 7)) "$upstream" "$WL_TLS_DIR" || { failed=$((failed + 1)); return 1; }
    WHIPLASH_ENDPOINT="http://127.0.0.1:$((base + 1))" \
        WHIPLASH_SIGCHECK_STATS="http://127.0.0.1:$((base + 1))/__stats" \
        WHIPLASH_FLAKY_ENDPOINT="http://127.0.0.1:$((base + 2))" \
        WHIPLASH_THROTTLED_ENDPOINT="http://127.0.0.1:$((base + 3))" \
        WHIPLASH_HANG_ENDPOINT="http://127.0.0.1:$((base + 4))" \
        WHIPLASH_CHAOS_ENDPOINT="http://127.0.0.1:$((base + 5))" \
        WHIPLASH_CHAOS_STATS="http://127.0.0.1:$((base + 5))/__stats" \
        WHIPLASH_BROKEN_ENDPOINT="http://127.0.0.1:$((base + 6))" \
        WHIPLASH_TLS_ENDPOINT="https://127.0.0.1:$((base + 7))" WHIPLASH_TLS_CA="$WL_TLS_DIR/ca.pem" \
        WHIPLASH_DIRECT_ENDPOINT="$upstream" WHIPLASH_TOOLS="$ROOT/test/tools" \
        WHIPLASH_DIGITS=/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz \
        WHIPLASH_WORDS="$WL_WORDS_DIR" \
        WHIPLASH_KEY=$KEY WHIPLASH_SECRET=$SECRET WHIPLASH_TOKEN_KEY=$TOKEN_KEY \
        WHIPLASH_TOKEN_SECRET=$TOKEN_SECRET WHIPLASH_TOKEN=$TOKEN \
        pg_virtualenv -v 15 bash test/tools/regress_cluster.sh "$WL_LOG_DIR/server-$name.log" \
        ${WL_REGRESS_WRAPPER:-} make installcheck ${WL_REGRESS_TESTS:+REGRESS="$WL_REGRESS_TESTS"} \
        >"$WL_LOG_DIR/regress-$name.log" 2>&1
    local status=$?
    grep -E '\.\.\. ' "$WL_LOG_DIR/regress-$name.log"
    echo "# faults injected by the random-fault proxy of sql/faults.sql:" \
        "$(curl -s "http://127.0.0.1:$((base + 5))/__stats")"
    local failed_before=$failed
    count_regress "$WL_LOG_DIR/regress-$name.log" "$name"
    check_secrets "$name"
    if ((status != 0 && failed == failed_before)); then
        tail -n 40 "$WL_LOG_DIR/regress-$name.log"
        echo "pg_regress against $name exited with status $status"
        failed=$((failed + 1))
    fi
}

# check_secrets NAME: no test credential appears in anything the server
# said during the suite against NAME: query output (errors, notices,
# EXPLAIN) or the server log.
check_secrets() {
    local found
    found=$(grep -F -l -e "$SECRET" -e "$TOKEN_SECRET" -e "$TOKEN" results/*.out \
        "$WL_LOG_DIR/server-$1.log" 2>/dev/null)
    if [[ -z $found && -s $WL_LOG_DIR/server-$1.log ]]; then
        echo "ok - no secret in the output or server log of the suite against $1"
        passed=$((passed + 1))
    else
        echo "not ok - a secret appears in: ${found:-(no server log)}"
        failed=$((failed + 1))
    fi
}

# run_stress NAME SERVER_PORT: 16 pgbench clients writing and searching one
# collection, then one session's memory over many searches
# (test/stress/stress.sh); WL_STRESS_SECONDS and WL_STRESS_STATEMENTS size it.
run_stress() {
    echo "== concurrency and memory against $1"
    WHIPLASH_ENDPOINT="http://127.0.0.1:$2" WHIPLASH_KEY=$KEY WHIPLASH_SECRET=$SECRET \
        pg_virtualenv -v 15 bash test/stress/stress.sh "${WL_STRESS_SECONDS:-30}" 16 \
        "${WL_STRESS_STATEMENTS:-10000}" >"$WL_LOG_DIR/stress-$1.log" 2>&1
    local status=$?
    grep -E '^(ok|not ok|# )' "$WL_LOG_DIR/stress-$1.log"
    count_tap "$WL_LOG_DIR/stress-$1.log"
    if ((status != 0)) && ! grep -q '^not ok' "$WL_LOG_DIR/stress-$1.log"; then
        tail -n 20 "$WL_LOG_DIR/stress-$1.log"
        failed=$((failed + 1))
    fi
}

# WL_BACKENDS picks the servers (default: both), e.g. WL_BACKENDS=dynalite.
for backend in ${WL_BACKENDS:-dynalite dynamodb-local}; do
    case $backend in
        dynalite) wl_start_dynalite 18001 && run_suite dynalite 18001 18010 &&
            run_stress dynalite 18001 ;;
        dynamodb-local) wl_start_ddblocal 18001 && run_suite dynamodb-local 18001 18010 &&
            run_stress dynamodb-local 18001 ;;
        *) echo "unknown backend $backend"; false ;;
    esac || failed=$((failed + 1))
    wl_stop_all
done

# Fuzzing: each libFuzzer target of test/fuzz for WL_FUZZ_SECONDS (20).
echo "== fuzzing the parsers of external bytes"
bash test/fuzz/run.sh "${WL_FUZZ_SECONDS:-20}" >"$WL_LOG_DIR/fuzz.log" 2>&1
fuzz_status=$?
grep -E '^(ok|not ok)' "$WL_LOG_DIR/fuzz.log"
count_tap "$WL_LOG_DIR/fuzz.log"
if ((fuzz_status != 0)) && ! grep -q '^not ok' "$WL_LOG_DIR/fuzz.log"; then
    tail -n 20 "$WL_LOG_DIR/fuzz.log"
    failed=$((failed + 1))
fi

# Memory checks (WL_MEMCHECK=0 skips): the core's unit tests with
# AddressSanitizer, LeakSanitizer and UBSan, then the regression suite
# against dynalite with every backend under Valgrind's memcheck
# (WL_MEMCHECK_TESTS picks the tests; default: all but recall and words,
# whose thousands of searches take too long under valgrind).
if [[ ${WL_MEMCHECK:-1} != 0 ]]; then
    echo "== unit tests under AddressSanitizer, LeakSanitizer and UBSan"
    make -s unittest SANITIZE=address,undefined >"$WL_LOG_DIR/unit-sanitize.log" 2>&1
    unit_status=$?
    grep -E '^not ok|ERROR: |runtime error' "$WL_LOG_DIR/unit-sanitize.log"
    count_tap "$WL_LOG_DIR/unit-sanitize.log"
    ((unit_status == 0)) || { grep -q '^not ok' "$WL_LOG_DIR/unit-sanitize.log" || failed=$((failed + 1)); }
    # The reports' folder must be writable by the cluster's postgres user.
    memcheck_dir=$(mktemp -d -t whiplash-memcheck.XXXXXX)
    chmod 1777 "$memcheck_dir"
    WL_REGRESS_WRAPPER="bash $ROOT/test/tools/valgrind_cluster.sh $memcheck_dir"
    WL_REGRESS_TESTS=${WL_MEMCHECK_TESTS:-$(sed -n 's/^REGRESS = //p' Makefile | sed 's/ recall//; s/ words//')}
    wl_start_dynalite 18001 && run_suite dynalite-memcheck 18001 18010 || failed=$((failed + 1))
    grep '^valgrind_cluster:' "$WL_LOG_DIR/regress-dynalite-memcheck.log"
    unset WL_REGRESS_WRAPPER WL_REGRESS_TESTS
    wl_stop_all
fi

((failed == 0))
