#!/usr/bin/env bash
# Checks of the HTTP server whiplash-api and the CLI whiplash, run inside a
# throw-away cluster:
#   WHIPLASH_ENDPOINT=http://127.0.0.1:PORT WHIPLASH_KEY=... WHIPLASH_SECRET=... \
#   WL_API_BIN=src/api/whiplash-api WL_CLI_BIN=src/cli/whiplash \
#       pg_virtualenv -t -v 15 bash test/api/api.sh [SECONDS] [REQUESTS] [PORT]
# PORT (18030) is the server's; PORT+1 a fault proxy in front of the same
# DynamoDB that holds requests on demand (test/tools/fault_proxy.py), PORT+2
# a plain web server, an endpoint that is not DynamoDB.
# 1. Sets up the extension, foreign server "ddb" (project apitest) and
#    "slow" (project apislow, through the proxy, with collection "held"),
#    and the roles: api_writer and api_reader (NOLOGIN), and the login role
#    api_server, NOINHERIT, a member of both, which the server connects as.
# 2. Writes the configuration (mode 600): a random key per role, hashed
#    with --hash-key, and one for a role that does not exist; starts the
#    server on 127.0.0.1:PORT with max_body 1MB and request_timeout 10s,
#    and waits for GET /healthz.
# 3. Runs test/api/api_test.py: every route and error class against SQL,
#    malformed requests, slow clients, the CLI, 16 clients for SECONDS (30)
#    and the server's memory over REQUESTS (100000) requests.
#    Then PostgreSQL goes away: the server's sessions are terminated, then
#    PostgreSQL is stopped and started again.
# 4. Sends SIGTERM while a request is held in flight at DynamoDB: the
#    request must complete, a new one must not be served, and the server
#    must exit 0. Then the log: a line for every request, and no key.
# Prints one TAP line per check ("ok N - ..."/"not ok N - ...") and the
# figures as "# " lines; exits non-zero when a check fails.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SECONDS_TO_RUN=${1:-30}
REQUESTS=${2:-100000}
PORT=${3:-18030}
PROXY_PORT=$((PORT + 1))
WEB_PORT=$((PORT + 2))
REQUEST_TIMEOUT=10
WORK=$(mktemp -d -t whiplash-api.XXXXXX)
chmod 700 "$WORK"
# The proxies' logs and the server's go to the run's log directory when
# test/run.sh gives one.
export WL_LOG_DIR=${WL_LOG_DIR:-$WORK/logs}
mkdir -p "$WL_LOG_DIR"
API_LOG=$WL_LOG_DIR/whiplash-api-$PORT.log
API="http://127.0.0.1:$PORT"
PROXY="http://127.0.0.1:$PROXY_PORT"
server_pid=""

source "$HERE/../tools/tap.sh"
source "$HERE/../tools/servers.sh"

# Stops what this script started: the server (if a check left it running),
# then the proxy and the web server.
cleanup() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null
        for ((i = 0; i < 50; i++)); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    wl_stop_all
    rm -rf "$WORK"
}
trap cleanup EXIT

# set_up_failed WHAT: the one TAP line of a run that could not start.
set_up_failed() {
    echo "not ok $((checks + 1)) - set-up: $1"
    echo "1..$((checks + 1))"
    exit 1
}

for var in WHIPLASH_ENDPOINT WHIPLASH_KEY WHIPLASH_SECRET WL_API_BIN WL_CLI_BIN PGHOST PGPORT PGDATABASE; do
    [[ -n ${!var:-} ]] || set_up_failed "$var is not set (see the usage at the top of $0)"
done
for var in WL_API_BIN WL_CLI_BIN; do
    [[ -x ${!var} ]] || set_up_failed "$var (${!var}) is not an executable"
    # api_test.py runs the CLI from a directory of its own
    printf -v "$var" '%s' "$(realpath "${!var}")"
done

random_hex() {
    od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}
writer_key=$(random_hex 24)
reader_key=$(random_hex 24)
ghost_key=$(random_hex 24)
server_password=$(random_hex 16)

# The proxy starts holding every request; it is released at once, and
# api_test.py and step 4 hold requests with GET /__hold.
wl_start_fault "$PROXY_PORT" "$WHIPLASH_ENDPOINT" hold:60 >&2 || set_up_failed "the fault proxy on port $PROXY_PORT"
curl -sf --max-time 5 "$PROXY/__release" >/dev/null || set_up_failed "releasing the fault proxy"
wl_start_webserver "$WEB_PORT" >&2 || set_up_failed "the web server on port $WEB_PORT"

# Roles. The server connects as api_server, a login role that is a member
# of the keys' roles and NOINHERIT, so it holds no privilege of its own:
# every request runs as its key's role (SET LOCAL ROLE), and a request that
# somehow escaped its SET ROLE (RESET ROLE in the same transaction, a bug)
# could do nothing. Connecting as the cluster's superuser instead would let
# any such slip act as superuser, and would make the 403 checks prove less.
#   api_writer: creates and drops collections (EXECUTE on the two functions
#     the extension does not grant to PUBLIC, USAGE on the servers, CREATE
#     on schema public, where the API puts their foreign tables, which it
#     then owns: so it may read, write and drop them);
#   api_reader: USAGE on the servers (it may list collections), no SELECT
#     on any collection's table.
# Both use the user mappings FOR PUBLIC. The key of role api_ghost, which is
# never created, is the server's own misconfiguration (500).
q <<SQL >/dev/null || set_up_failed "SQL"
CREATE EXTENSION whiplash;
CREATE SERVER ddb FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint '$WHIPLASH_ENDPOINT', project 'apitest', stage 's$$');
-- The same DynamoDB through the proxy that holds requests on demand.
CREATE SERVER slow FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint '$PROXY', project 'apislow', stage 's$$', request_timeout '60s');
CREATE USER MAPPING FOR PUBLIC SERVER ddb
  OPTIONS (access_key_id '$WHIPLASH_KEY', secret_access_key '$WHIPLASH_SECRET');
CREATE USER MAPPING FOR PUBLIC SERVER slow
  OPTIONS (access_key_id '$WHIPLASH_KEY', secret_access_key '$WHIPLASH_SECRET');
SELECT whiplash_setup('ddb');
CREATE ROLE api_writer NOLOGIN;
CREATE ROLE api_reader NOLOGIN;
CREATE ROLE api_server LOGIN NOINHERIT PASSWORD '$server_password';
GRANT api_writer, api_reader TO api_server;
GRANT USAGE ON FOREIGN SERVER ddb, slow TO api_writer, api_reader;
GRANT CREATE ON SCHEMA public TO api_writer;
GRANT EXECUTE ON FUNCTION
  whiplash_create_collection(name, text, integer, text, integer, integer, bigint, real[], integer, text),
  whiplash_drop_collection(name, text) TO api_writer;
SELECT 1 FROM whiplash_create_collection('slow', 'held', 16, metric => 'l2');
CREATE FOREIGN TABLE held (id text, vector real[], attributes jsonb)
  SERVER slow OPTIONS (collection 'held');
INSERT INTO held
  SELECT 'h' || n, array_agg(sin(n * 0.37 + d * 1.1)::real ORDER BY d), jsonb_build_object('n', n)
    FROM generate_series(1, 20) n, generate_series(1, 16) d GROUP BY n;
GRANT SELECT ON held TO api_writer;
SQL

conninfo="host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=api_server password=$server_password"
me=$(psql "$conninfo" -XAtq -c "SELECT current_user" 2>&1)
alone=$(psql "$conninfo" -XAtq -c "SELECT 1 FROM whiplash_create_collection('ddb', 'byserver', 2)" 2>&1)
as_writer=$(psql "$conninfo" -XAtq -c "SET ROLE api_writer" \
    -c "SELECT has_function_privilege('whiplash_drop_collection(name, text)', 'EXECUTE')" 2>&1)
as_reader=$(psql "$conninfo" -XAtq -c "SET ROLE api_reader" -c "SELECT current_user" 2>&1)
check "api_server logs in with its password, holds no privilege itself (NOINHERIT), and may SET ROLE to both key roles" \
    test "$me" = api_server -a "$as_writer" = t -a "$as_reader" = api_reader \
    -a "$(grep -c 'permission denied for function whiplash_create_collection' <<<"$alone")" = 1

# The key hashes: sha256 of the key, with or without the newline that ends
# the line it was read from.
writer_hash=$(printf '%s\n' "$writer_key" | "$WL_API_BIN" --hash-key 2>&1)
reader_hash=$(printf '%s' "$reader_key" | "$WL_API_BIN" --hash-key 2>&1)
ghost_hash=$(printf '%s\n' "$ghost_key" | "$WL_API_BIN" --hash-key 2>&1)
check "--hash-key prints sha256:HEX of the key it reads on standard input, with or without a newline" \
    test "$writer_hash" = "sha256:$(printf '%s' "$writer_key" | sha256sum | cut -d' ' -f1)" \
    -a "$reader_hash" = "sha256:$(printf '%s' "$reader_key" | sha256sum | cut -d' ' -f1)"

config=$WORK/whiplash-api.conf
(
    umask 077
    cat >"$config" <<CONF
# whiplash-api configuration of test/api/api.sh
listen = 127.0.0.1
port = $PORT
conninfo = 'host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=api_server password=$server_password'
pool_size = 8
request_timeout = ${REQUEST_TIMEOUT}s
max_body = 1MB
schema = public
connection_limit = 256
key = api_writer $writer_hash
key = api_reader $reader_hash
key = api_ghost $ghost_hash
CONF
)
chmod 600 "$config"

"$WL_API_BIN" --config "$config" >"$WORK/api.out" 2>"$API_LOG" &
server_pid=$!
started=0
for ((i = 0; i < 300; i++)); do
    kill -0 "$server_pid" 2>/dev/null || break
    if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$API/healthz") == 200 ]]; then
        started=1
        break
    fi
    sleep 0.1
done
check "whiplash-api --config FILE (mode 600) starts on 127.0.0.1:$PORT and answers GET /healthz" \
    test "$started" = 1
if ((started == 0)); then
    tail -n 20 "$API_LOG" | sed 's/^/# /'
    echo "1..$checks"
    exit 1
fi

# 3. The checks of the routes, errors, CLI and load, against SQL.
WL_API_URL=$API WL_API_PID=$server_pid WL_API_LOG=$API_LOG \
    WL_WRITER_KEY=$writer_key WL_READER_KEY=$reader_key WL_GHOST_KEY=$ghost_key \
    WL_PROJECT=apitest WL_STAGE=s$$ WL_SLOW_PROJECT=apislow WL_PROXY_URL=$PROXY \
    WL_WEB_URL=http://127.0.0.1:$WEB_PORT WL_CLI_BIN=$WL_CLI_BIN WL_WORK=$WORK \
    WL_SECONDS=$SECONDS_TO_RUN WL_REQUESTS=$REQUESTS WL_MAX_BODY=1048576 \
    WL_REQUEST_TIMEOUT=$REQUEST_TIMEOUT WL_TAP_START=$((checks + 1)) \
    timeout $((SECONDS_TO_RUN + 1800)) /usr/bin/python3 "$HERE/api_test.py" | tee "$WORK/api_test.out"
test_status=${PIPESTATUS[0]}
checks=$((checks + $(grep -cE '^(not )?ok [0-9]+ ' "$WORK/api_test.out")))
failures=$((failures + $(grep -cE '^not ok [0-9]+ ' "$WORK/api_test.out")))
if ((test_status != 0)) && ! grep -q '^not ok ' "$WORK/api_test.out"; then
    check "api_test.py ran to its end (it exited $test_status)" false
fi
curl -sf --max-time 5 "$PROXY/__release" >/dev/null

# 3b. The original library's own client, when a checkout of it is given.
if [[ -n ${ORIGINAL_WHIPLASH_DIR:-} ]]; then
    WL_API_URL=$API WL_WRITER_KEY=$writer_key WL_PROJECT=apitest WL_TAP_START=$((checks + 1)) \
        /usr/bin/python3 "$HERE/original_client.py" >"$WORK/original.out" 2>&1
    cat "$WORK/original.out"
    checks=$((checks + $(grep -cE '^(not )?ok [0-9]+ ' "$WORK/original.out")))
    failures=$((failures + $(grep -cE '^not ok [0-9]+ ' "$WORK/original.out")))
else
    echo "# the original library's client: not run (ORIGINAL_WHIPLASH_DIR names no checkout of it)"
fi

# 3c. A PostgreSQL that went away: the server's sessions terminated, then
# PostgreSQL stopped (503 with Retry-After, the server alive) and started
# again (served at once, on new sessions).
( umask 077; printf 'x-api-key: %s\n' "$writer_key" >"$WORK/writer.header" )
item_code() {
    curl -s --max-time 30 -H @"$WORK/writer.header" -o "$WORK/pg.body" -D "$WORK/pg.headers" \
        -w '%{http_code}' "$API/projects/apislow/collections/held/items/h2"
}
q -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
       WHERE application_name = 'whiplash-api'" >/dev/null
codes=""
for ((i = 0; i < 10; i++)); do codes+="$(item_code) "; done
check "PostgreSQL ended the server's sessions: the next 10 requests are served on new ones ($codes)" \
    test "$codes" = "$(printf '200 %.0s' {1..10})"
pg_ctlcluster "$PGVERSION" regress stop -m fast
down_code=$(item_code)
down_body=$(cat "$WORK/pg.body")
down_retry=$(grep -ci '^retry-after: 1' "$WORK/pg.headers")
down_health=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$API/healthz")
echo "# with PostgreSQL stopped: $down_code $down_body"
check "PostgreSQL stopped: 503 with the error body and Retry-After, and the server still up" \
    test "$down_code" = 503 -a "$down_retry" = 1 -a "$down_health" = 200 \
    -a "$(/usr/bin/python3 -c 'import json, sys; print(json.loads(sys.argv[1])["error"]["status"])' \
        "$down_body" 2>/dev/null)" = 503
pg_ctlcluster "$PGVERSION" regress start
up_code=$(item_code)
check "PostgreSQL started again: the next request is served (got $up_code)" test "$up_code" = 200

# 4. SIGTERM while a request is in flight: the proxy holds the request's
# DynamoDB call, so it stays in flight, inside the server, as long as
# this script wants.
hold_count() {
    local n
    n=$(curl -s --max-time 5 "$PROXY/__stats" |
        /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["hold"])' 2>/dev/null)
    echo "${n:-0}"
}
held_before=$(hold_count)
curl -sf --max-time 5 "$PROXY/__hold" >/dev/null
curl -s --max-time 120 -H @"$WORK/writer.header" -o "$WORK/held.body" -w '%{http_code}' \
    "$API/projects/apislow/collections/held/items/h3" >"$WORK/held.code" 2>/dev/null &
curl_pid=$!
held=0
for ((i = 0; i < 100; i++)); do
    if (($(hold_count) > held_before)); then
        held=1
        break
    fi
    sleep 0.1
done
kill -TERM "$server_pid"
sleep 1
draining=0
kill -0 "$server_pid" 2>/dev/null && draining=1
during=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$API/healthz")
curl -sf --max-time 5 "$PROXY/__release" >/dev/null
wait "$curl_pid"
stopped=0
for ((i = 0; i < 300; i++)); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        stopped=1
        break
    fi
    sleep 0.1
done
if ((stopped)); then
    wait "$server_pid"
    server_status=$?
else
    kill -KILL "$server_pid"
    wait "$server_pid"
    server_status="none: killed after 30 s"
fi
server_pid=""
check "SIGTERM with a request held in flight: the server waits for it" test "$held" = 1 -a "$draining" = 1
want_item=$(q -c "SELECT json_build_object('id', id, 'vector', vector, 'attributes', attributes) FROM held WHERE id = 'h3'")
same_item() {
    /usr/bin/python3 - "$WORK/held.body" "$want_item" <<'PY'
import json, struct, sys
f32 = lambda x: struct.unpack("<f", struct.pack("<f", x))[0]
try:
    got = json.load(open(sys.argv[1]))
    want = json.loads(sys.argv[2])
    same = (got.get("id") == want["id"] and got.get("attributes") == want["attributes"]
            and [f32(x) for x in got["vector"]] == [f32(x) for x in want["vector"]])
except Exception as err:
    print(f"# held request: {err!r}")
    same = False
sys.exit(0 if same else 1)
PY
}
held_code=$(cat "$WORK/held.code" 2>/dev/null)
held_answered() {
    test "$held_code" = 200 && same_item
}
check "... the held request completes: 200 with its item (got ${held_code:-nothing})" held_answered
check "... a new request during the drain is not served (got $during)" test "$during" != 200
check "... the server exits 0 once it is done (exit status $server_status)" test "$server_status" = 0
grep -E '^whiplash-api: ' "$API_LOG" | sed 's/^/# log: /'

# The log: one line a request (api_test.py counted the answers to its
# well-formed requests; the held one adds one), and no secret.
line_re='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z [^ ]+ [A-Z]+ /[^ ]* [0-9]{3} [0-9]+ [^ ]+ role=[^ ]+$'
logged=$(LC_ALL=C grep -acE "$line_re" "$API_LOG")
answered=$(cat "$WORK/answered" 2>/dev/null || echo unknown)
check "the log has a line for every request: $logged request lines, api_test.py read $answered answers, plus the held one" \
    test "$answered" != unknown -a "$logged" -ge "$((${answered/unknown/0} + 1))"
held_logged() {
    LC_ALL=C grep -aqE ' GET /projects/apislow/collections/held/items/h3 200 [0-9]+ [^ ]+ role=api_writer$' "$API_LOG"
}
check "the log line of the held request: path, status 200, role=api_writer" held_logged
leaked=""
for secret in "$writer_key" "$reader_key" "$ghost_key" "$server_password" "$WHIPLASH_SECRET"; do
    if ((${#secret} >= 12)) && grep -aqF -- "$secret" "$API_LOG" "$WORK/api.out"; then
        leaked="$leaked ${secret:0:4}..."
    fi
done
check "the server's log and output hold no key, nor its database password or the DynamoDB secret${leaked:+ (found:$leaked)}" \
    test -z "$leaked"

# Drops the collections of the run, through SQL.
q >/dev/null 2>&1 <<'SQL' || echo "# could not drop every collection of the run"
SELECT whiplash_drop_collection('ddb', collection) FROM whiplash_collections('ddb');
SELECT whiplash_drop_collection('slow', collection) FROM whiplash_collections('slow');
SQL

echo "1..$checks"
((failures == 0))
