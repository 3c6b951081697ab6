#!/usr/bin/env bash
# Runs the libFuzzer targets of the Postgres-free core, one after another:
#   bash test/fuzz/run.sh [SECONDS_PER_TARGET]      (default 20; any directory)
#
# For each target: builds it (make; the exact clang command is shown when
# the build fails), replays every input kept in regressions/<target>/ (past
# crashes), then fuzzes a scratch copy of corpus/<target>/ for the given
# time, so the committed corpus is never touched.  Prints one TAP line per
# target and exits non-zero when any failed.  A crash input is saved under
# build/artifacts/<target>/ and named in the failure line; keep it in
# regressions/<target>/ once fixed.  Logs are in build/logs/.
#
# FUZZ_SCRATCH=<dir> keeps the scratch corpora there (default: a temporary
# directory, removed at the end), so that what a run found can be merged
# into the committed corpus, which should stay at tens of files a target:
#   build/fuzz_<target> -merge=1 corpus/<target> <dir>/<target>
set -uo pipefail

FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SECONDS_PER_TARGET="${1:-20}"
TARGETS=(response item meta attrs endpoint base64 stats)
BUILD="$FUZZ_DIR/build"
LOGS="$BUILD/logs"

if ! [[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]] || ((SECONDS_PER_TARGET < 1)); then
	echo "usage: $0 [SECONDS_PER_TARGET]" >&2
	exit 2
fi

# The dictionary of a target.
dictionary() {
	case "$1" in
		endpoint) echo "$FUZZ_DIR/dict/endpoint.dict" ;;
		base64) echo "$FUZZ_DIR/dict/base64.dict" ;;
		*) echo "$FUZZ_DIR/dict/dynamodb.dict" ;;
	esac
}

# Prints a log's last lines as TAP comments.
show_log() {
	tail -n "${2:-40}" "$1" | sed 's/^/# /'
}

# The crash, leak, timeout or OOM input libFuzzer saved, if any.
artifact_of() {
	find "$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
		-o -name 'oom-*' -o -name 'slow-unit-*' \) -print 2>/dev/null | head -n 1
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

mkdir -p "$LOGS"
if [[ -n "${FUZZ_SCRATCH:-}" ]]; then
	SCRATCH="$FUZZ_SCRATCH"
	mkdir -p "$SCRATCH"
else
	SCRATCH=$(mktemp -d -t whiplash-fuzz.XXXXXX)
	trap 'rm -rf "$SCRATCH"' EXIT
fi

echo "1..${#TARGETS[@]}"
n=0
failed=0
for target in "${TARGETS[@]}"; do
	n=$((n + 1))
	bin="$BUILD/fuzz_$target"
	log="$LOGS/$target.log"
	artifacts="$BUILD/artifacts/$target"
	: >"$log"

	# 1. Build.  make prints the clang command before running it.
	if ! make --no-print-directory -C "$FUZZ_DIR" "$bin" >"$LOGS/$target.build.log" 2>&1; then
		echo "not ok $n - fuzz $target: build failed"
		echo "# the failing command and its output ($LOGS/$target.build.log):"
		show_log "$LOGS/$target.build.log" 60
		failed=$((failed + 1))
		continue
	fi

	# 2. Replay the kept crash inputs.
	regressions=()
	if [[ -d "$FUZZ_DIR/regressions/$target" ]]; then
		while IFS= read -r -d '' file; do
			regressions+=("$file")
		done < <(find "$FUZZ_DIR/regressions/$target" -type f ! -name '.*' -print0 | sort -z)
	fi
	if ((${#regressions[@]} > 0)); then
		if ! "$bin" -rss_limit_mb=2048 -timeout=10 "${regressions[@]}" >"$LOGS/$target.replay.log" 2>&1; then
			bad=$(grep -o 'Running: .*' "$LOGS/$target.replay.log" | tail -n 1 | cut -c10-)
			echo "not ok $n - fuzz $target: regression input fails again: ${bad:-?}"
			echo "# reproduce: $bin $bad"
			show_log "$LOGS/$target.replay.log"
			failed=$((failed + 1))
			continue
		fi
		echo "# $target: ${#regressions[@]} regression inputs replayed"
	fi

	# 3. Fuzz a scratch copy of the corpus.
	corpus="$SCRATCH/$target"
	rm -rf "$corpus"
	mkdir -p "$corpus"
	rm -rf "$artifacts"
	mkdir -p "$artifacts"
	if [[ -d "$FUZZ_DIR/corpus/$target" ]]; then
		cp -R "$FUZZ_DIR/corpus/$target/." "$corpus/"
	fi
	"$bin" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 \
		-dict="$(dictionary "$target")" -artifact_prefix="$artifacts/" \
		-print_final_stats=1 "$corpus" >"$log" 2>&1
	status=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	inputs=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | sed -n 's/.*corp: \([0-9]*\).*/\1/p' | tail -n 1)
	[[ -n "$inputs" ]] || inputs=$(find "$corpus" -type f | wc -l)
	artifact=$(artifact_of "$artifacts")
	if ((status != 0)) || [[ -n "$artifact" ]]; then
		echo "not ok $n - fuzz $target: ${runs:-?} runs, crash ${artifact:-(no input saved, exit $status)}"
		[[ -n "$artifact" ]] && echo "# reproduce: $bin $artifact"
		show_log "$log" 60
		failed=$((failed + 1))
		continue
	fi
	echo "ok $n - fuzz $target: ${runs:-?} runs, $inputs inputs, no crash"
done

((failed == 0))
