-- One pgbench transaction of test/stress/stress.sh: a client inserts,
-- replaces, updates, deletes or searches one of 200 ids of the collection
-- "busy" that all clients share, and makes the same change to the local
-- table "expect" in the same transaction.  The collection's writes reach
-- DynamoDB at COMMIT, before PostgreSQL commits: a failed flush aborts
-- both.  A writer holds a lock on its id until it has committed, so that
-- the table sees each id's writes in the order DynamoDB does; an UPDATE
-- reads the vector item another client wrote last.
\set n random(1, 200)
\set op random(1, 10)
\set seed random(1, 1000000)
BEGIN;
\if :op <= 7
SELECT pg_advisory_xact_lock(:n);
\endif
\if :op <= 4
INSERT INTO busy VALUES ('k' || :n, stress_vec(:seed), jsonb_build_object('seed', :seed, 'by', :client_id));
INSERT INTO expect VALUES ('k' || :n, stress_vec(:seed), jsonb_build_object('seed', :seed, 'by', :client_id))
  ON CONFLICT (id) DO UPDATE SET vector = EXCLUDED.vector, attributes = EXCLUDED.attributes;
\elif :op <= 6
UPDATE busy SET vector = stress_vec(:seed) WHERE id = 'k' || :n;
UPDATE expect SET vector = stress_vec(:seed) WHERE id = 'k' || :n;
\elif :op <= 7
DELETE FROM busy WHERE id = 'k' || :n;
DELETE FROM expect WHERE id = 'k' || :n;
\else
SELECT count(*) FROM whiplash_search('busy', stress_vec(:seed), 10);
\endif
COMMIT;
