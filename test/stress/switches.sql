-- One pgbench transaction of the switches check in test/stress/stress.sh:
-- a client searches the collection "churn" (part 0), or its query's tenant
-- in "tenants" (part 1), near one of its 1,200 fixed vectors while another
-- session inserts, deletes, retrains and reindexes it, and compares the
-- answer to brute force over the local table "anchors"
-- (stress_switch_search, which notes any difference in the table "wrong").  Every other vector lies far from the fixed ones, so the exact
-- answer never changes.  Reading every cell makes the answer exact;
-- reading the default cells must still find the query's own vector first.
-- A pause of up to 0.1 s lets a switch and its cleanup finish between one
-- client's statements, so that its next one starts on a stale index.
\set n random(1, 1200)
\set how random(1, 3)
\set pause random(0, 100)
\sleep :pause ms
SELECT stress_switch_search(:part, :n, :how);
