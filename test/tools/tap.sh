# TAP helpers shared by the check scripts (test/stress, test/crash); source it.
checks=0
failures=0

# check NAME CONDITION...: records one TAP line.
check() {
    local name=$1
    shift
    checks=$((checks + 1))
    if "$@"; then
        echo "ok $checks - $name"
    else
        echo "not ok $checks - $name"
        failures=$((failures + 1))
    fi
}

# q ARGS...: psql, quiet, tuples only, stopping at the first error.
q() {
    psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"
}
