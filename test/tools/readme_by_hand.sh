#!/bin/bash
# readme_by_hand.sh README FOLDER: follows the README's section "A local
# DynamoDB, by hand" literally, as a user would type it: its sh block (which
# starts dynalite and opens psql), the sql block typed into that psql, then
# the command the section gives to stop dynalite.  Prints TAP lines; the
# steps, their input and their output are left in FOLDER.
readme=$1 dir=$2
mkdir -p "$dir" || exit 1
section=$(awk '/^### A local DynamoDB, by hand$/ { on = 1; next } on && /^#/ { exit } on' "$readme")
block() { awk -v lang="$1" '$0 == "```" lang { on = 1; next } on && /^```/ { exit } on'; }
block sh <<<"$section" >"$dir/steps.sh"
block sql <<<"$section" >"$dir/steps.sql"
stop=$(grep -o 'Stop dynalite with `[^`]*`' <<<"$section" | sed 's/.*`\(.*\)`/\1/')
if [[ ! -s $dir/steps.sh || ! -s $dir/steps.sql || -z $stop ]]; then
    echo "not ok - the README's section \"A local DynamoDB, by hand\" has no sh block, sql block or stop command"
    exit 1
fi
echo "$stop" >>"$dir/steps.sh"
if curl --silent --output /dev/null --max-time 2 http://127.0.0.1:8000/; then
    echo "not ok - the README's by-hand steps need port 8000, which something else holds"
    exit 1
fi

timeout 300 bash "$dir/steps.sh" <"$dir/steps.sql" >"$dir/output.txt" 2>&1
status=$?
out=$(cat "$dir/output.txt")
ok=1
# whiplash_create_collection's row, then the search's two rows: a, then c.
grep -Eq '^ notes +\| packed$' <<<"$out" || ok=0
ids=$(awk '/^ id +\|/ { on = 1; next } on && /^\(/ { exit } on && !/^-/ { print $1 }' <<<"$out" | tr '\n' ' ')
[[ $ids == "a c " ]] || ok=0
grep -q '^(2 rows)$' <<<"$out" || ok=0
grep -q 'ERROR' <<<"$out" && ok=0
((status == 0)) || ok=0
sleep 1
if curl --silent --output /dev/null --max-time 2 http://127.0.0.1:8000/; then
    echo "# dynalite still answers on 127.0.0.1:8000 after \"$stop\""
    ok=0
fi
if ((ok)); then
    echo "ok - the README's by-hand steps work as written (search returns a, c)"
else
    echo "not ok - the README's by-hand steps (exit status $status; ids \"$ids\"); their output:"
    sed 's/^/# /' "$dir/output.txt"
    exit 1
fi
