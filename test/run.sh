#!/usr/bin/env bash
# Runs every whiplash test on a Debian 12 machine, as root:
#   1. installs the Debian and pinned npm packages it needs;
#   2. builds the extension with -Wall -Wextra -Werror and installs it, and
#      checks the source tree: no file over 1,000 lines, no circle of calls;
#   3. runs the C unit tests of the Postgres-free core;
#   4. starts dynalite and AWS DynamoDB Local on 127.0.0.1, each behind the
#      SigV4-checking proxy and fault-injecting proxies, and runs the
#      pg_regress suite against each in turn in a throw-away PostgreSQL 15
#      cluster, then the pgbench concurrency, index-switch and memory checks
#      (test/stress), and after dynalite's the HTTP API server and its CLI
#      (test/api); meanwhile it builds whiplash against PostgreSQL 17
#      and 18 in Debian roots (test/tools/roots.sh) and runs the suite
#      against dynalite on each, in network namespaces of their own;
#   5. runs the fuzz targets of test/fuzz for a short while;
#   6. runs the unit tests under AddressSanitizer, LeakSanitizer and UBSan,
#      and the regression suite (against dynalite) under Valgrind memcheck;
#   7. stops what it started and prints "N passed, N failed" last.
# Exits non-zero when anything failed or the run was interrupted.
# `bash test/run.sh --help` lists the options that run a part of it.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

usage() {
    cat <<'USAGE'
Usage: bash test/run.sh [OPTION]...
Builds whiplash and runs its tests; with no option, all of them (what CI runs).
The line before the last counts regression tests, unit checks and other
checks apart; the last is always "N passed, N failed", their sum.  The exit
status is 0 only when nothing failed and the run was not interrupted.

  --backend NAME    run the regression suite and stress checks against NAME
                    only: dynalite or dynamodb-local (repeatable; default both)
  --tests 'A B'     run only these regression tests (sql/A.sql, ...), in the
                    suite's order; setup, which the others need, is added
  --no-stress       skip the pgbench concurrency and memory checks, and the
                    crash test (DynamoDB Local killed during a COMMIT)
  --no-fuzz         skip fuzzing
  --no-memcheck     skip the sanitizer and Valgrind memcheck runs
  --no-api          skip the checks of the HTTP API server and its CLI
                    (test/api), run against dynalite
  --api             run them even with --quick or --tests
  --quick           all four: --no-stress --no-fuzz --no-memcheck --no-api
  --majors 'A B'    the PostgreSQL majors to test: 15 (this machine's), 17
                    and 18, the other two in Debian roots against dynalite
                    (default: all three; with --tests, 15 only)
  --major N         (what --majors runs for 17 and 18) build against major N
                    in its root and run only its regression suite against
                    dynalite, in this network namespace
  --fuzz-seconds N  seconds each fuzz target runs (default 20)
  --stress-seconds N
                    seconds the pgbench clients run (default 30)
  --stress-statements N
                    statements of the memory check (default 10000)
  -h, --help        print this and exit

Examples:
  bash test/run.sh --backend dynalite --tests packed --quick
  bash test/run.sh --quick

Logs go to test/build/logs/<date and time>/ (the last line before the
totals names it); nothing is left in /tmp. The environment variables
WL_BACKENDS, WL_REGRESS_TESTS, WL_MEMCHECK=0, WL_FUZZ_SECONDS,
WL_STRESS_SECONDS and WL_STRESS_STATEMENTS do the same as the options.
USAGE
}

backends=${WL_BACKENDS:-}
regress_tests=${WL_REGRESS_TESTS:-}
run_stress_checks=1
run_api_checks=1
want_api_checks=0
run_fuzz=1
run_memcheck=${WL_MEMCHECK:-1}
majors=${WL_MAJORS:-}
major=""
fuzz_seconds=${WL_FUZZ_SECONDS:-20}
stress_seconds=${WL_STRESS_SECONDS:-30}
stress_statements=${WL_STRESS_STATEMENTS:-10000}
# Reads an option's value, or stops with a usage error.
option_value() {
    if (($2 < 2)) || [[ $3 == --* ]]; then
        echo "test/run.sh: $1 needs a value (see --help)" >&2
        exit 2
    fi
}
while (($# > 0)); do
    case $1 in
        -h | --help) usage; exit 0 ;;
        --backend) option_value "$1" $# "${2:-}"; backends="$backends $2"; shift ;;
        --tests) option_value "$1" $# "${2:-}"; regress_tests=$2; shift ;;
        --no-stress) run_stress_checks=0 ;;
        --no-fuzz) run_fuzz=0 ;;
        --no-memcheck) run_memcheck=0 ;;
        --no-api) run_api_checks=0 ;;
        --api) want_api_checks=1 ;;
        --quick) run_stress_checks=0; run_fuzz=0; run_memcheck=0; run_api_checks=0 ;;
        --majors) option_value "$1" $# "${2:-}"; majors=$2; shift ;;
        --major) option_value "$1" $# "${2:-}"; major=$2; shift ;;
        --fuzz-seconds) option_value "$1" $# "${2:-}"; fuzz_seconds=$2; shift ;;
        --stress-seconds) option_value "$1" $# "${2:-}"; stress_seconds=$2; shift ;;
        --stress-statements) option_value "$1" $# "${2:-}"; stress_statements=$2; shift ;;
        *) echo "test/run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
all_tests=$(sed -n 's/^REGRESS = //p' Makefile)
if ((want_api_checks)); then
    run_api_checks=1
elif [[ -n $regress_tests ]]; then
    run_api_checks=0
fi
# The majors: 15 is this machine's; 17 and 18 run in roots of their own.
for m in ${majors:-} $major; do
    case $m in
        15 | 17 | 18) ;;
        *) echo "test/run.sh: no PostgreSQL major $m: 15, 17 or 18" >&2; exit 2 ;;
    esac
done
[[ -n $majors ]] || majors=$([[ -n $regress_tests ]] && echo 15 || echo "15 17 18")
if [[ -n $major ]]; then
    # One other major's regression suite, against dynalite only.
    backends=dynalite run_stress_checks=0 run_fuzz=0 run_memcheck=0 run_api_checks=0
fi
for backend in ${backends:-dynalite dynamodb-local}; do
    case $backend in
        dynalite | dynamodb-local) ;;
        *) echo "test/run.sh: unknown backend $backend: dynalite or dynamodb-local" >&2; exit 2 ;;
    esac
done
# The tests asked for, in the suite's order, with setup first.
if [[ -n $regress_tests ]]; then
    for test in $regress_tests; do
        if [[ " $all_tests " != *" $test "* ]]; then
            echo "test/run.sh: no regression test $test; the tests are: $all_tests" >&2
            exit 2
        fi
    done
    wanted=" setup $regress_tests "
    regress_tests=""
    for test in $all_tests; do
        [[ $wanted == *" $test "* ]] && regress_tests="$regress_tests $test"
    done
    regress_tests=${regress_tests# }
fi

source test/tools/deps.sh
source test/tools/servers.sh
source test/tools/roots.sh

WL_LOG_DIR=${WL_MAJOR_LOG_DIR:-"$ROOT/test/build/logs/$(date -u +%Y%m%d-%H%M%S)-$$"}
mkdir -p "$WL_LOG_DIR"
export WL_LOG_DIR
# The test certificate's and Valgrind's folders: the cluster's postgres
# user reads and writes them, so they live in /tmp until the run ends.
WL_TLS_DIR=$(mktemp -d -t whiplash-tls.XXXXXX)
chmod 755 "$WL_TLS_DIR"
memcheck_dir=""
# The folder the regression suite runs in: this tree, or (--major) a copy
# of it in that major's root, at /build/whiplash there.
suite_dir=$ROOT
major_root=""
if [[ -n $major ]]; then
    major_root="$WL_ROOTS/$(wl_root_major "$major")-$major"
    suite_dir="$major_root/build/whiplash"
fi
WL_DIGITS=/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz
major_pids=()
majors_summary=""
majors_regress_passed=0
majors_regress_failed=0
passed=0
failed=0
regress_passed=0
regress_failed=0
unit_passed=0
unit_failed=0
interrupted=""

# Test credentials: DynamoDB Local wants alphanumeric key ids.
KEY=whiplashtestkey
SECRET=whiplashtestsecret
TOKEN_KEY=whiplashtokenkey
TOKEN_SECRET=whiplashtokensecret
TOKEN=whiplashsessiontoken

# Signals every process this script started, their children first.
stop_children() {
    local pid
    for pid in $(pgrep -P "$1"); do
        stop_children "$pid"
        kill -TERM "$pid" 2>/dev/null
    done
}

# Stops everything, removes the temporary folders, and prints the totals;
# an interrupted run counts as a failure, so that it never reads as a pass.
finish() {
    trap - INT TERM
    # a signal may arrive inside a step whose output goes to a log
    exec 1>&3 2>&4
    if [[ -n $interrupted ]]; then
        stop_children $$
        echo "not ok - the run was interrupted by SIG$interrupted; what it did not reach did not run"
        failed=$((failed + 1))
    fi
    wl_stop_all
    [[ -z $major_root ]] || wl_root_umount "$major_root"
    rm -rf "$WL_TLS_DIR" ${memcheck_dir:+"$memcheck_dir"}
    echo "logs: $WL_LOG_DIR"
    local regress="on PostgreSQL ${major:-15}: $regress_passed passed, $regress_failed failed"
    [[ -n $major || " $majors " == *" 15 "* ]] || regress=""
    regress="$regress$majors_summary"
    echo "regression tests ${regress#; };" \
        "unit checks: $unit_passed passed, $unit_failed failed;" \
        "other checks: $((passed - regress_passed - majors_regress_passed - unit_passed)) passed," \
        "$((failed - regress_failed - majors_regress_failed - unit_failed)) failed"
    echo "$passed passed, $failed failed"
}
exec 3>&1 4>&2
trap finish EXIT
trap 'interrupted=INT; exit 130' INT
trap 'interrupted=TERM; exit 143' TERM

# step COMMAND...: runs a long step in the background and waits for it, so
# that an interrupt is acted on at once rather than when the step ends.
step() {
    "$@" &
    wait $!
}

# count_tap LOG [unit]: counts TAP lines ("ok N", "not ok N"), as unit
# checks when told so, otherwise as other checks.
count_tap() {
    local log=$1 ok bad
    ok=$(grep -c '^ok ' "$log")
    bad=$(grep -c '^not ok ' "$log")
    passed=$((passed + ok))
    failed=$((failed + bad))
    if [[ ${2:-} == unit ]]; then
        unit_passed=$((unit_passed + ok))
        unit_failed=$((unit_failed + bad))
    fi
}

# in_root COMMAND...: runs COMMAND in this major's root, in the copy of
# the tree there.
in_root() {
    chroot "$major_root" bash -c 'cd /build/whiplash && exec "$@"' in_root "$@"
}

# Builds and installs whiplash against --major's PostgreSQL in its root
# (made once, then kept): a copy of the tree without build output, with
# this tree (for logs and tools), the test certificate's folder and the
# digits mounted at their own paths.
build_in_root() {
    wl_root_make "$major_root" "$(wl_root_major "$major")" "$major" &&
        rm -rf --one-file-system "$suite_dir" && mkdir -p "$suite_dir" &&
        tar -C "$ROOT" --exclude=./.git --exclude=./test/node_modules --exclude=./test/build \
            --exclude=./results --exclude='*.o' --exclude='*.so' --exclude='*.bc' -cf - . |
        tar -C "$suite_dir" -xf - &&
        wl_root_mount "$major_root" "$ROOT" "$WL_TLS_DIR" "$(dirname "$WL_DIGITS")" &&
        in_root make -j"$(nproc)" WERROR=1 && in_root make install WERROR=1
}

# Counts pg_regress results ("... ok" and "... FAILED" before PostgreSQL
# 16, "ok N - name" and "not ok N - name" since) and keeps the diffs.
count_regress() {
    local log=$1 name=$2 ok bad
    ok=$(grep -cE '\.\.\. +ok|^ok +[0-9]+ +[-+] ' "$log")
    bad=$(grep -cE '\.\.\. +FAILED|\.\.\. +failed|^not ok +[0-9]+ +[-+] ' "$log")
    passed=$((passed + ok))
    failed=$((failed + bad))
    regress_passed=$((regress_passed + ok))
    regress_failed=$((regress_failed + bad))
    if ((bad > 0 || ok == 0)); then
        [[ -f $suite_dir/regression.diffs ]] &&
            cp "$suite_dir/regression.diffs" "$WL_LOG_DIR/regression-$name.diffs" &&
            cat "$suite_dir/regression.diffs"
        if ((ok == 0 && bad == 0)); then
            failed=$((failed + 1))
            echo "pg_regress ran no test against $name"
        fi
    fi
    return 0
}

wl_install_deps || { failed=$((failed + 1)); exit 1; }

echo "== build (-Wall -Wextra -Werror)${major:+ against PostgreSQL $major, in $major_root}"
# The Makefile rebuilds what changed, and everything when the flags did.
if [[ -n $major ]]; then
    step build_in_root >"$WL_LOG_DIR/build.log" 2>&1
elif step make -j"$(nproc)" WERROR=1 >"$WL_LOG_DIR/build.log" 2>&1; then
    step make install WERROR=1 >>"$WL_LOG_DIR/build.log" 2>&1
fi || {
    tail -n 40 "$WL_LOG_DIR/build.log"
    failed=$((failed + 1))
    exit 1
}
if [[ -n $major ]]; then
    echo "ok - whiplash builds with -Wall -Wextra -Werror against PostgreSQL $major"
    passed=$((passed + 1))
fi

# No source file over 1,000 lines, no circle between files (from the objects).
check_tree() {
    echo "== the source tree: file sizes, calls between files"
    /usr/bin/python3 test/tools/source_tree.py >"$WL_LOG_DIR/tree.log" 2>&1
    grep -E '^(ok|not ok|# )' "$WL_LOG_DIR/tree.log"
    count_tap "$WL_LOG_DIR/tree.log"
    grep -qE '^(ok|not ok) ' "$WL_LOG_DIR/tree.log" ||
        { tail -n 5 "$WL_LOG_DIR/tree.log"; failed=$((failed + 1)); }
}

# The word vectors of sql/words.sql: trained once, kept in test/build/words,
# when that test runs.
WL_WORDS_DIR="$ROOT/test/build/words"
make_words() {
    [[ -z $regress_tests || " $regress_tests " == *" words "* ]] || return 0
    echo "== word vectors for sql/words.sql (test/tools/wordvecs.sh small)"
    if ! step bash test/tools/wordvecs.sh small "$WL_WORDS_DIR" >"$WL_LOG_DIR/wordvecs.log" 2>&1; then
        tail -n 20 "$WL_LOG_DIR/wordvecs.log"
        failed=$((failed + 1))
    fi
}

# The unit tests' figures ("# " lines) are shown only when one fails.
run_unit_tests() {
    local status
    echo "== unit tests of the core"
    step make -s unittest >"$WL_LOG_DIR/unit.log" 2>&1
    status=$?
    if ((status != 0)) || grep -q '^not ok' "$WL_LOG_DIR/unit.log"; then
        grep -E '^(not ok|# )' "$WL_LOG_DIR/unit.log" || tail -n 20 "$WL_LOG_DIR/unit.log"
    fi
    count_tap "$WL_LOG_DIR/unit.log" unit
    ((status == 0)) || { grep -q '^not ok' "$WL_LOG_DIR/unit.log" || failed=$((failed + 1)); }
}

# Starts this run for each other major (17, 18) in the background: its
# root is made first (or found made) with this machine's network, then the
# run goes into a network namespace of its own, so that its servers take
# the same ports (which expected output names) on its own loopback.
start_other_majors() {
    local m root
    for m in $majors; do
        [[ $m != 15 ]] || continue
        echo "== PostgreSQL $m: started in the background (log pg$m.log, logs in pg$m/)"
        root="$WL_ROOTS/$(wl_root_major "$m")-$m"
        mkdir -p "$WL_LOG_DIR/pg$m"
        {
            wl_root_make "$root" "$(wl_root_major "$m")" "$m" >"$WL_LOG_DIR/pg$m/root.log" 2>&1 ||
                { tail -n 20 "$WL_LOG_DIR/pg$m/root.log"; echo "could not make $root"; }
            # Niced: this machine's own suites keep the CPU they need, and
            # these take what is left.
            WL_MAJOR_LOG_DIR="$WL_LOG_DIR/pg$m" nice -n 10 unshare --net bash -c \
                'ip link set lo up && exec bash test/run.sh --major "$1" ${2:+--tests "$2"}' \
                run.sh "$m" "$regress_tests"
        } >"$WL_LOG_DIR/pg$m.log" 2>&1 &
        major_pids+=("$m:$!")
    done
}

# Waits for the other majors' runs, shows their results and adds their
# counts; a run that printed no totals counts as a failure.
finish_other_majors() {
    local entry m log line totals
    for entry in "${major_pids[@]}"; do
        m=${entry%%:*}
        wait "${entry#*:}"
        log="$WL_LOG_DIR/pg$m.log"
        echo "== PostgreSQL $m, in a Debian root, against dynalite"
        grep -E '^(ok |not ok |pg_regress |== build)' "$log"
        line=$(grep '^regression tests on PostgreSQL ' "$log" | tail -n 1)
        totals=$(tail -n 1 "$log")
        if [[ $line =~ ^regression\ tests\ on\ PostgreSQL\ [0-9]+:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
            majors_regress_passed=$((majors_regress_passed + BASH_REMATCH[1]))
            majors_regress_failed=$((majors_regress_failed + BASH_REMATCH[2]))
            majors_summary="$majors_summary; on PostgreSQL $m: ${BASH_REMATCH[1]} passed, ${BASH_REMATCH[2]} failed"
            # The diffs of a failed test, as this run shows its own.
            ((BASH_REMATCH[2] == 0)) || grep -E '^(diff |[-+@])' "$log" | head -n 300
        fi
        if [[ -n $line && $totals =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
            passed=$((passed + BASH_REMATCH[1]))
            failed=$((failed + BASH_REMATCH[2]))
        else
            tail -n 20 "$log"
            echo "not ok - the run against PostgreSQL $m ended without its totals"
            failed=$((failed + 1))
        fi
    done
}

if [[ -z $major ]]; then
    check_tree
    make_words
    start_other_majors
    run_unit_tests
fi

# The random faults of sql/faults.sql: about one attempt in three fails.
CHAOS_MIX=pass=66,throttle=5,500=5,503=4,reset=5,stall:1=3,truncate=6,garbage=6

# run_suite NAME SERVER_PORT BASE: runs pg_regress against one DynamoDB
# server, reached through proxies listening on ports BASE+1 ... BASE+7, with
# a plain web server (not DynamoDB) on BASE+8, a proxy that delays every
# BatchWriteItem by 2 s on BASE+9, a server answering in HTTP/0.9 on
# BASE+10 and a proxy that answers DeleteTable itself, leaving the table in
# place as AWS does for a while, on BASE+11, a proxy that cuts short the
# first answer to every UpdateItem after it took effect on BASE+12, one
# that holds every UpdateItem until a test releases it on BASE+13, and one
# that answers every Scan with a 500 on BASE+14.
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
        wl_start_tls $((base + 7)) "$upstream" "$WL_TLS_DIR" &&
        wl_start_webserver $((base + 8)) &&
        wl_start_fault $((base + 9)) "$upstream" sleep:2 BatchWriteItem &&
        wl_start_http09 $((base + 10)) &&
        wl_start_fault $((base + 11)) "$upstream" keep DeleteTable &&
        wl_start_fault $((base + 12)) "$upstream" truncate,pass UpdateItem &&
        wl_start_fault $((base + 13)) "$upstream" hold:600 UpdateItem &&
        wl_start_fault $((base + 14)) "$upstream" 500 Scan ||
        { failed=$((failed + 1)); return 1; }
    WHIPLASH_ENDPOINT="http://127.0.0.1:$((base + 1))" \
        WHIPLASH_SIGCHECK_STATS="http://127.0.0.1:$((base + 1))/__stats" \
        WHIPLASH_FLAKY_ENDPOINT="http://127.0.0.1:$((base + 2))" \
        WHIPLASH_THROTTLED_ENDPOINT="http://127.0.0.1:$((base + 3))" \
        WHIPLASH_HANG_ENDPOINT="http://127.0.0.1:$((base + 4))" \
        WHIPLASH_CHAOS_ENDPOINT="http://127.0.0.1:$((base + 5))" \
        WHIPLASH_CHAOS_STATS="http://127.0.0.1:$((base + 5))/__stats" \
        WHIPLASH_BROKEN_ENDPOINT="http://127.0.0.1:$((base + 6))" \
        WHIPLASH_TLS_ENDPOINT="https://127.0.0.1:$((base + 7))" WHIPLASH_TLS_CA="$WL_TLS_DIR/ca.pem" \
        WHIPLASH_WEB_ENDPOINT="http://127.0.0.1:$((base + 8))" \
        WHIPLASH_SLOW_WRITES_ENDPOINT="http://127.0.0.1:$((base + 9))" \
        WHIPLASH_HTTP09_ENDPOINT="http://127.0.0.1:$((base + 10))" \
        WHIPLASH_KEEP_TABLES_ENDPOINT="http://127.0.0.1:$((base + 11))" \
        WHIPLASH_LOST_UPDATES_ENDPOINT="http://127.0.0.1:$((base + 12))" \
        WHIPLASH_HELD_UPDATES_ENDPOINT="http://127.0.0.1:$((base + 13))" \
        WHIPLASH_FAILED_SCANS_ENDPOINT="http://127.0.0.1:$((base + 14))" \
        WHIPLASH_DIRECT_ENDPOINT="$upstream" WHIPLASH_TOOLS="$ROOT/test/tools" \
        WHIPLASH_DIGITS=$WL_DIGITS \
        WHIPLASH_WORDS="$WL_WORDS_DIR" \
        WHIPLASH_KEY=$KEY WHIPLASH_SECRET=$SECRET WHIPLASH_TOKEN_KEY=$TOKEN_KEY \
        WHIPLASH_TOKEN_SECRET=$TOKEN_SECRET WHIPLASH_TOKEN=$TOKEN \
        step ${major:+in_root} pg_virtualenv -t -v "${major:-15}" \
        bash test/tools/regress_cluster.sh "$WL_LOG_DIR/server-$name.log" \
        ${WL_REGRESS_WRAPPER:-} make installcheck ${suite_tests:+REGRESS="$suite_tests"} \
        >"$WL_LOG_DIR/regress-$name.log" 2>&1
    local status=$?
    grep -E '\.\.\. |^(not )?ok +[0-9]+ +[-+] ' "$WL_LOG_DIR/regress-$name.log"
    if [[ -z $suite_tests || " $suite_tests " == *" faults "* ]]; then
        echo "# faults injected by the random-fault proxy of sql/faults.sql:" \
            "$(curl -s "http://127.0.0.1:$((base + 5))/__stats")"
    fi
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
    found=$(grep -F -l -e "$SECRET" -e "$TOKEN_SECRET" -e "$TOKEN" "$suite_dir"/results/*.out \
        "$WL_LOG_DIR/server-$1.log" 2>/dev/null)
    if [[ -z $found && -s $WL_LOG_DIR/server-$1.log ]]; then
        echo "ok - no secret in the output or server log of the suite against $1"
        passed=$((passed + 1))
    else
        echo "not ok - a secret appears in: ${found:-(no server log)}"
        failed=$((failed + 1))
    fi
}

# report_tap STATUS LOG: shows and counts a check script's TAP lines; a
# script that failed without a "not ok" line counts as one failure.
report_tap() {
    local status=$1 log=$2
    grep -E '^(ok|not ok|# )' "$log"
    count_tap "$log"
    if ((status != 0)) && ! grep -q '^not ok' "$log"; then
        tail -n 20 "$log"
        failed=$((failed + 1))
    fi
}

# run_stress NAME SERVER_PORT: 16 pgbench clients writing and searching one
# collection, searches against brute force while another session retrains
# and reindexes, then one session's memory over many searches
# (test/stress/stress.sh); --stress-seconds and --stress-statements size it.
run_stress() {
    echo "== concurrency and memory against $1"
    WHIPLASH_ENDPOINT="http://127.0.0.1:$2" WHIPLASH_KEY=$KEY WHIPLASH_SECRET=$SECRET \
        step pg_virtualenv -t -v 15 bash test/stress/stress.sh "$stress_seconds" 16 \
        "$stress_statements" >"$WL_LOG_DIR/stress-$1.log" 2>&1
    report_tap $? "$WL_LOG_DIR/stress-$1.log"
}

# run_api SERVER_PORT: whiplash-api and the whiplash CLI against the real
# extension and dynalite: every route and error class, 16 clients for
# --stress-seconds, memory over 100,000 requests (test/api/api.sh).
run_api() {
    echo "== the HTTP API server and its CLI against dynalite"
    WHIPLASH_ENDPOINT="http://127.0.0.1:$1" WHIPLASH_KEY=$KEY WHIPLASH_SECRET=$SECRET \
        WL_API_BIN="$ROOT/src/api/whiplash-api" WL_CLI_BIN="$ROOT/src/cli/whiplash" \
        step pg_virtualenv -t -v 15 bash test/api/api.sh "$stress_seconds" \
        "${WL_API_REQUESTS:-100000}" 18030 >"$WL_LOG_DIR/api.log" 2>&1
    report_tap $? "$WL_LOG_DIR/api.log"
}

# run_crash: DynamoDB Local on disk killed during a large COMMIT and
# restarted (test/crash/crash.sh), on ports 18101 and 18102; then
# PostgreSQL killed during a background index build, and DynamoDB out of
# reach during another (test/crash/build_crash.sh), on 18103 and 18104.
run_crash() {
    echo "== a real crash: DynamoDB Local killed during a COMMIT"
    WHIPLASH_KEY=$KEY WHIPLASH_SECRET=$SECRET WL_LOG_DIR="$WL_LOG_DIR" \
        step pg_virtualenv -t -v 15 bash test/crash/crash.sh 18101 >"$WL_LOG_DIR/crash.log" 2>&1
    report_tap $? "$WL_LOG_DIR/crash.log"
    echo "== PostgreSQL killed during a background index build"
    WHIPLASH_KEY=$KEY WHIPLASH_SECRET=$SECRET WL_LOG_DIR="$WL_LOG_DIR" \
        step pg_virtualenv -t -v 15 bash test/crash/build_crash.sh 18103 \
        >"$WL_LOG_DIR/build-crash.log" 2>&1
    report_tap $? "$WL_LOG_DIR/build-crash.log"
}

# --backend picks the servers (default: both); --majors without 15 runs
# no suite on this machine's PostgreSQL.
suite_tests=$regress_tests
here_backends=${backends:-dynalite dynamodb-local}
if [[ -z $major && " $majors " != *" 15 "* ]]; then
    here_backends="" run_memcheck=0
fi
for backend in $here_backends; do
    case $backend in
        dynalite) wl_start_dynalite 18001 && run_suite dynalite 18001 18010 ;;
        dynamodb-local) wl_start_ddblocal 18001 && run_suite dynamodb-local 18001 18010 ;;
    esac &&
        { ((run_stress_checks == 0)) || run_stress "$backend" 18001; } || failed=$((failed + 1))
    if [[ $backend == dynalite ]] && ((run_api_checks != 0)); then
        run_api 18001 || failed=$((failed + 1))
    fi
    wl_stop_all
    if [[ $backend == dynamodb-local ]] && ((run_stress_checks != 0)); then
        run_crash
    fi
done

# The README's section "A local DynamoDB, by hand", followed literally
# (not when --tests picks tests).
if [[ -z $regress_tests && -z $major && -n $here_backends ]]; then
    echo "== the README's steps by hand"
    step bash test/tools/readme_by_hand.sh README.md "$WL_LOG_DIR/by-hand" >"$WL_LOG_DIR/by-hand.log" 2>&1
    grep -E '^(ok|not ok|# )' "$WL_LOG_DIR/by-hand.log"
    count_tap "$WL_LOG_DIR/by-hand.log"
fi

# Fuzzing: each libFuzzer target of test/fuzz for --fuzz-seconds (20).
if ((run_fuzz != 0)); then
    echo "== fuzzing the parsers of external bytes"
    step bash test/fuzz/run.sh "$fuzz_seconds" >"$WL_LOG_DIR/fuzz.log" 2>&1
    fuzz_status=$?
    grep -E '^(ok|not ok)' "$WL_LOG_DIR/fuzz.log"
    count_tap "$WL_LOG_DIR/fuzz.log"
    if ((fuzz_status != 0)) && ! grep -q '^not ok' "$WL_LOG_DIR/fuzz.log"; then
        tail -n 20 "$WL_LOG_DIR/fuzz.log"
        failed=$((failed + 1))
    fi
fi

# Memory checks (--no-memcheck skips): the core's unit tests with
# AddressSanitizer, LeakSanitizer and UBSan, then the regression suite
# against dynalite with every backend under Valgrind's memcheck
# (WL_MEMCHECK_TESTS picks the tests; default: those asked for, or all, but
# recall, words and embeddings, whose thousands of searches and exact
# distances take too long under valgrind, and check and collections, which
# take 5.5 and 4 minutes there; packed.sql calls whiplash_recall, calibrates,
# creates and drops collections, checks and repairs them, so that all that
# code runs under memcheck too, and the whole run stays within CI's hour).
if [[ $run_memcheck != 0 ]]; then
    echo "== unit tests under AddressSanitizer, LeakSanitizer and UBSan"
    step make -s unittest SANITIZE=address,undefined >"$WL_LOG_DIR/unit-sanitize.log" 2>&1
    unit_status=$?
    grep -E '^not ok|ERROR: |runtime error' "$WL_LOG_DIR/unit-sanitize.log"
    count_tap "$WL_LOG_DIR/unit-sanitize.log" unit
    ((unit_status == 0)) || { grep -q '^not ok' "$WL_LOG_DIR/unit-sanitize.log" || failed=$((failed + 1)); }
    # The reports' folder must be writable by the cluster's postgres user.
    memcheck_dir=$(mktemp -d -t whiplash-memcheck.XXXXXX)
    chmod 1777 "$memcheck_dir"
    WL_REGRESS_WRAPPER="bash $ROOT/test/tools/valgrind_cluster.sh $memcheck_dir"
    suite_tests=${WL_MEMCHECK_TESTS:-$(echo " ${regress_tests:-$all_tests} " | sed 's/ recall / /; s/ words / /; s/ embeddings / /; s/ check / /; s/ collections / /')}
    wl_start_dynalite 18001 && run_suite dynalite-memcheck 18001 18010 || failed=$((failed + 1))
    grep '^valgrind_cluster:' "$WL_LOG_DIR/regress-dynalite-memcheck.log"
    unset WL_REGRESS_WRAPPER
    wl_stop_all
fi

finish_other_majors
((failed == 0))
