# Bash library: Debian roots made with debootstrap, each holding another
# PostgreSQL major's server and headers, so that test/run.sh can build and
# test whiplash against that major.  Sourced by test/run.sh.
#
#   source test/tools/roots.sh
#   wl_root_major 17              # prints the Debian suite that has it: trixie
#   wl_root_make DIR SUITE MAJOR  # makes the root once; later calls reuse it
#   wl_root_mount DIR PATH...     # proc, dev, and each host PATH at its own path
#   wl_root_umount DIR            # undoes every mount under DIR
#
# Roots are kept in $WL_ROOTS (default /var/cache/whiplash/roots) between
# runs: a root that finished installing is marked by its package list.

WL_ROOTS=${WL_ROOTS:-/var/cache/whiplash/roots}
WL_ROOT_MIRROR=${WL_ROOT_MIRROR:-http://deb.debian.org/debian}

# The Debian suite whose archive has PostgreSQL MAJOR.
wl_root_major() {
    case $1 in
        17) echo trixie ;;
        18) echo sid ;;
        *) return 1 ;;
    esac
}

# What a root needs: the server and headers, the build, and what the
# regression tests' programs run on (COPY FROM PROGRAM runs in the root).
wl_root_packages() {
    echo "postgresql-$1 postgresql-server-dev-$1 postgresql-common make gcc libc6-dev" \
        "libcurl4-openssl-dev libjson-c-dev libmicrohttpd-dev libssl-dev curl python3 python3-boto3 python3-numpy"
}

# wl_root_make DIR SUITE MAJOR: debootstraps SUITE into DIR and installs the
# packages; a root whose mark matches the package list is reused as it is.
wl_root_make() {
    local dir=$1 suite=$2 major=$3 packages
    packages=$(wl_root_packages "$major")
    if [[ -f $dir/.whiplash-root && $(cat "$dir/.whiplash-root") == "$packages" ]]; then
        return 0
    fi
    if [[ -f $dir/.whiplash-debootstrapped ]]; then
        # Made before with other packages: add the missing ones.
        rm -f "$dir/.whiplash-root"
    else
        wl_root_umount "$dir"
        rm -rf --one-file-system "$dir"
        mkdir -p "$(dirname "$dir")"
        debootstrap --variant=minbase --include=ca-certificates "$suite" "$dir" "$WL_ROOT_MIRROR" ||
            return 1
        # No service starts while packages install.
        printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
        chmod +x "$dir/usr/sbin/policy-rc.d"
        touch "$dir/.whiplash-debootstrapped"
    fi
    # A mirror may serve sid's Release past its Valid-Until date (seen
    # here): the packages' signatures are still checked.
    wl_root_mount "$dir" &&
        chroot "$dir" apt-get -o Acquire::Check-Valid-Until=false update -q &&
        DEBIAN_FRONTEND=noninteractive chroot "$dir" apt-get install -y -q \
            --no-install-recommends $packages
    local status=$?
    wl_root_umount "$dir"
    ((status == 0)) && echo "$packages" >"$dir/.whiplash-root"
    return $status
}

# wl_root_mount DIR PATH...: mounts /proc, /dev (with /dev/pts and a fresh
# /dev/shm) and each host PATH (a folder) at the same path inside DIR.
wl_root_mount() {
    local dir=$1 path
    shift
    mountpoint -q "$dir/proc" || mount -t proc proc "$dir/proc" || return 1
    mountpoint -q "$dir/dev" || mount --rbind /dev "$dir/dev" || return 1
    mountpoint -q "$dir/dev/shm" || mount -t tmpfs shm "$dir/dev/shm" || return 1
    for path in "$@"; do
        mkdir -p "$dir$path"
        mountpoint -q "$dir$path" || mount --bind "$path" "$dir$path" || return 1
    done
}

# wl_root_umount DIR: unmounts everything mounted under DIR, deepest first.
wl_root_umount() {
    local mounts
    [[ -d $1 ]] || return 0
    mounts=$(awk -v root="$(realpath "$1")/" 'index($2, root) == 1 { print $2 }' /proc/mounts |
        sort -r)
    [[ -z $mounts ]] || umount -l $mounts
}
