#!/usr/bin/env bash
# The synthetic scale points: packed collections of 100,000 and 1,000,000
# clustered points (32 dimensions, test/bench/datasets.py), each searched
# with 1,000 fresh points of the same clusters at the default settings,
# through formats.sh.  Results go to test/bench/build/million.json and the
# "A million vectors" section of BENCHMARKS.md.
#
#   bash test/bench/million.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export WL_FORMATS_FORMATS=packed WL_FORMATS_TARGETS= WL_FORMATS_SECTION=million
export WL_FORMATS_TITLE="A million vectors: packed search at 100,000 and 1,000,000"
export WL_FORMATS_COMMAND="bash test/bench/million.sh"
exec bash formats.sh clustered_100k=clustered:100000:1000 clustered_1m=clustered:1000000:1000
