#!/usr/bin/env bash
# The demo's last part, run in its cluster after test/demo.sql:
# whiplash-api serves the digits collection over HTTP on 127.0.0.1:18502
# with one API key, mapped to role api_reader, and curl searches it.
#   bash test/demo_api.sh CONFIG_DIR [--keep]
# With --keep the server stays up (its pid in CONFIG_DIR/whiplash-api.pid).
set -euo pipefail
dir=$1
key=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
umask 077
printf 'listen = 127.0.0.1\nport = 18502\nkey = api_reader %s\n' \
    "$(echo "$key" | whiplash-api --hash-key)" >"$dir/whiplash-api.conf"
whiplash-api --config "$dir/whiplash-api.conf" 2>"$dir/whiplash-api.log" &
echo $! >"$dir/whiplash-api.pid"
for _ in $(seq 50); do
    curl -sf http://127.0.0.1:18502/healthz >/dev/null && break
    sleep 0.1
done
echo "$key" >"$dir/api-key"

query=$(psql -X -A -t -c "SELECT array_to_json(pixels) FROM images WHERE id = 'img2'")
echo "\$ whiplash-api --config whiplash-api.conf &     # key = api_reader sha256:..."
echo "\$ curl -s -H \"x-api-key: \$KEY\" http://127.0.0.1:18502/projects/whiplash/collections/digits/search \\"
echo "       -d '{\"query\": [the pixels of img2], \"limit\": 3}'"
curl -s -H "x-api-key: $key" http://127.0.0.1:18502/projects/whiplash/collections/digits/search \
    -d "{\"query\": $query, \"limit\": 3}" |
    python3 -c 'import json, sys
for hit in json.load(sys.stdin):
    print("  ", json.dumps({"id": hit["id"], "dist": round(hit["dist"], 4),
                            "attributes": hit["attributes"], "vector": "[64 numbers]"}))'
echo "(the server's log:)"
sed 's/^/   /' "$dir/whiplash-api.log"
[[ ${2:-} == --keep ]] || { kill -TERM "$(cat "$dir/whiplash-api.pid")"; wait; }
