#!/usr/bin/env bash
# Writes a fixture of a packed collection as an earlier whiplash wrote it,
# so that sql/packed.sql can check that such collections still open,
# search and upgrade:
#
#   lsh      test/fixtures/packed_lsh.jsonl.gz: before k-means cells
#            (commit 81a7757: LSH buckets and a WLM1 model); ids "d<row>"
#   cells03  test/fixtures/packed_cells03.jsonl.gz: 0.3.0 as commit 44bc35a
#            wrote it, before compact record names (calibrated cells,
#            records named "~<id>"); UUID ids, md5 of "d<row>"
#
# It builds and installs that commit from this repository's history,
# writes the 1,697 digits that sql/packed.sql searches (rows 100 and on)
# into a collection of the fixture's name on dynalite, dumps it with
# test/tools/v1tool.py, and installs this tree again.  Run from a clone
# with its history:
#   bash test/tools/packed_fixture.sh lsh|cells03
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
name=${1:?usage: packed_fixture.sh lsh|cells03}
case $name in
    lsh) old=81a7757 id="'d' || (n - 1)" ;;
    cells03) old=44bc35a id="md5('d' || (n - 1))::uuid::text" ;;
    *) echo "packed_fixture.sh: no fixture \"$name\"" >&2; exit 2 ;;
esac
source test/tools/deps.sh
WL_LOG_DIR=$(mktemp -d -t whiplash-fixture.XXXXXX)
export WL_LOG_DIR
source test/tools/servers.sh
wl_install_deps
old_tree=$WL_LOG_DIR/old
mkdir -p "$old_tree"
git archive "$old" | tar -x -C "$old_tree"
trap 'wl_stop_all; make -s install >/dev/null' EXIT
make -s -C "$old_tree" >/dev/null && make -s -C "$old_tree" install >/dev/null
wl_start_dynalite 18481
digits=/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz
cat >"$WL_LOG_DIR/write.sql" <<SQL
\set ON_ERROR_STOP on
CREATE EXTENSION whiplash;
CREATE SERVER ddb FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint 'http://127.0.0.1:18481');
CREATE USER MAPPING FOR CURRENT_USER SERVER ddb
  OPTIONS (access_key_id 'fixture', secret_access_key 'fixture');
SELECT whiplash_setup('ddb');
SELECT collection, format FROM whiplash_create_collection('ddb', '$name', 64, seed => 1);
CREATE FOREIGN TABLE $name (id text, vector real[]) SERVER ddb OPTIONS (collection '$name');
CREATE TABLE digits_raw (n serial, line text);
COPY digits_raw (line) FROM PROGRAM 'zcat $digits';
INSERT INTO $name
  SELECT $id, (string_to_array(line, ','))[1:64]::real[]
    FROM digits_raw WHERE n - 1 >= 100;
SELECT count(*) AS stored FROM $name;
SQL
pg_virtualenv -t -v 15 psql -X -q -f "$WL_LOG_DIR/write.sql"
WHIPLASH_KEY=fixture WHIPLASH_SECRET=fixture /usr/bin/python3 test/tools/v1tool.py \
    http://127.0.0.1:18481 dump "whiplash_dev_$name" "test/fixtures/packed_$name.jsonl.gz"
