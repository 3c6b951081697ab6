#!/usr/bin/env bash
# Runs a command against a pg_virtualenv cluster whose server runs under
# Valgrind's memcheck, every backend included:
#   pg_virtualenv -t -v 15 bash test/tools/valgrind_cluster.sh LOG_DIR COMMAND...
# The cluster pg_virtualenv started is stopped and its postmaster started
# again under valgrind --trace-children=yes (backends are forked, so each
# runs under memcheck); the programs a backend runs (COPY FROM PROGRAM's
# shell and the Python tools it starts) are not traced.  An error report
# whose stack passes through whiplash.so fails the run; PostgreSQL's own
# reports (it is not built with Valgrind support here) are counted and
# kept in LOG_DIR, which the postgres user must be able to write.  Leak
# checking is off: PostgreSQL leaves its memory contexts to process exit;
# the core's allocations are leak-checked by the unit tests and fuzz
# targets (LeakSanitizer).
set -uo pipefail
log_dir=$1
shift
read -r _ _ _ _ owner data_dir _ < <(pg_lsclusters -h 15 regress)
conf="${PG_CLUSTER_CONF_ROOT:-/etc/postgresql}/15/regress/postgresql.conf"
pg_ctlcluster 15 regress stop || exit 1
su "$owner" -s /bin/sh -c "exec valgrind --quiet --trace-children=yes \
    --trace-children-skip='/bin/sh,/usr/bin/sh,*python*' --leak-check=no \
    --num-callers=30 --log-file='$log_dir/memcheck.%p' \
    /usr/lib/postgresql/15/bin/postgres -D '$data_dir' -c config_file='$conf'" \
    >"$log_dir/postmaster.out" 2>&1 &
for _ in $(seq 1 240); do
    pg_isready -q && break
    sleep 0.5
done
pg_isready -q || {
    echo "valgrind_cluster: the server did not start under valgrind"
    cat "$log_dir/postmaster.out"
    exit 1
}
"$@"
status=$?
su "$owner" -s /bin/sh -c "/usr/lib/postgresql/15/bin/pg_ctl stop -D '$data_dir' -m fast -w -t 120" >/dev/null
# Each report is a block of lines from "==PID== <kind>" to an empty "==PID==".
ours=$(cat "$log_dir"/memcheck.* 2>/dev/null | awk '
    /^==[0-9]+== [A-Z]/ { block = $0 "\n"; inblock = 1; next }
    inblock && /^==[0-9]+== *$/ { if (block ~ /whiplash\.so/) { print block; n++ } inblock = 0; next }
    inblock { block = block $0 "\n" }
    END { exit n > 0 }')
found=$?
total=$(cat "$log_dir"/memcheck.* 2>/dev/null | grep -cE '^==[0-9]+== [A-Z]')
echo "valgrind_cluster: $(ls "$log_dir"/memcheck.* | wc -l) processes checked, $total reports," \
    "$([[ $found == 0 ]] && echo none || echo some) through whiplash.so"
if [[ $found != 0 ]]; then
    echo "$ours"
    exit 1
fi
exit $status
