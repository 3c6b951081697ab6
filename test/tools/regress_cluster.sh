#!/usr/bin/env bash
# Runs a command inside a pg_virtualenv cluster and keeps the server's log:
#   pg_virtualenv -t -v MAJOR bash test/tools/regress_cluster.sh LOG_COPY COMMAND...
# The throw-away cluster's log is deleted with it; test/run.sh reads the copy
# (for instance to check that no credential was ever logged).
set -uo pipefail
log_copy=$1
shift
"$@"
status=$?
server_log=$(pg_lsclusters -h "${PGVERSION:-15}" regress | awk '{print $7}')
cp "$server_log" "$log_copy" 2>/dev/null || echo "regress_cluster: no server log at $server_log"
exit $status
