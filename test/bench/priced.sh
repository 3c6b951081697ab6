# Shared by the benchmarks that price reads at the SigV4 proxy
# (filtered.sh, partitions.sh): source it after test/tools/servers.sh.

# Makes the data sets named (SET:BASE:QUERIES[:METRIC] ...) ready, the
# Fashion-MNIST package and the text sets of test/tools/textsets.sh, and
# builds and installs the extension.
wl_bench_prepare() {
    local sets=" $*"
    [[ $sets != *fmnist:* || -d /usr/share/datasets/fashion-mnist ]] ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null
    export WL_BENCH_TEXT384=$ROOT/test/bench/build/text384
    export WL_BENCH_LOWCONTRAST=$ROOT/test/bench/build/lowcontrast384
    [[ $sets != *" text384:"* ]] || bash test/tools/textsets.sh text384 "$WL_BENCH_TEXT384"
    [[ $sets != *lowcontrast384:* ]] ||
        bash test/tools/textsets.sh lowcontrast384 "$WL_BENCH_LOWCONTRAST"
    make -s WERROR=1 >/dev/null && make -s install >/dev/null
    mkdir -p test/bench/build
}

# Starts dynalite on port $1 behind the signature-checking, pricing proxy
# on $1 + 1, and points formats.py's WL_FORMATS_* at them; wl_stop_all
# stops both.
wl_bench_start_priced() {
    local port=$1
    export NODE_OPTIONS="--max-old-space-size=16384"
    wl_start_dynalite "$port"
    wl_start_sigcheck $((port + 1)) "http://127.0.0.1:$port" bench:bench
    export WL_FORMATS_DIRECT=http://127.0.0.1:$port WL_FORMATS_PRICED=http://127.0.0.1:$((port + 1))
    export WL_FORMATS_FAR=$WL_FORMATS_PRICED
}
