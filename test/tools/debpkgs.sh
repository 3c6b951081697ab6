# Bash library: the Debian package helpers of the data-set builders
# test/tools/wordvecs.sh and test/tools/textsets.sh, which source it.
# Nothing here changes what they build.
#
#   source test/tools/debpkgs.sh
#   pkg_version PKG          # its installed version, or nothing
#   installed PKG            # succeeds if PKG is installed
#   install_missing PKG...   # installs, with apt-get, those that are not

pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# install_missing PKG...: says what it installs with the caller's say(),
# shows apt-get's output only if it fails (then exits 1), and waits for
# another apt or dpkg run rather than fail.
install_missing() {
    local pkg log missing=()
    for pkg in "$@"; do
        installed "$pkg" || missing+=("$pkg")
    done
    ((${#missing[@]} > 0)) || return 0
    say "installing Debian packages: ${missing[*]}"
    log=$(mktemp)
    if ! { apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
            "${missing[@]}"; } >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
}
