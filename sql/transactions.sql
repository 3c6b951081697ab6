-- Transactions: writes to a collection reach DynamoDB at COMMIT, so a
-- ROLLBACK leaves nothing behind.  Uses the server "ddb" of setup.sql.
SELECT collection FROM whiplash_create_collection('ddb', 'tx', 2, metric => 'l2',
                                                  tables => 1, bits => 2, seed => 9);
CREATE FOREIGN TABLE tx (id text, vector real[], note text) SERVER ddb OPTIONS (collection 'tx');

-- Rolled back: nothing is sent, nothing is stored.
BEGIN;
INSERT INTO tx VALUES ('a', '{1,1}', 'first'), ('b', '{2,2}', 'second');
-- Reads within the transaction do not see its held writes, and say so.
SELECT count(*) FROM tx;
SELECT count(*) FROM whiplash_search('tx', '{1,1}', 5);
ROLLBACK;
SELECT count(*) AS after_rollback FROM tx;

-- Committed: stored, with every statement's writes.  Reads in the
-- transaction, a DELETE's included, do not see the rows it holds: this
-- DELETE finds no 'c' to delete.
BEGIN;
INSERT INTO tx VALUES ('a', '{1,1}', 'first'), ('b', '{2,2}', 'second');
INSERT INTO tx VALUES ('c', '{3,3}', 'third');
DELETE FROM tx WHERE id = 'c';
COMMIT;
SELECT id, note FROM tx ORDER BY id;

-- An UPDATE and a DELETE rolled back leave the rows as they were.
BEGIN;
UPDATE tx SET note = 'changed' WHERE id = 'a';
DELETE FROM tx WHERE id = 'b';
ROLLBACK;
SELECT id, note FROM tx ORDER BY id;
SELECT id FROM whiplash_search('tx', '{2,2}', 1);

-- A statement that fails rolls back the writes of the whole transaction.
BEGIN;
INSERT INTO tx VALUES ('d', '{4,4}', 'fourth');
INSERT INTO tx VALUES ('e', '{5}', 'wrong dimensions');
COMMIT;
SELECT count(*) AS unchanged FROM tx;

-- A rolled-back subtransaction that wrote cannot be undone alone: the
-- commit fails and nothing is written.
BEGIN;
INSERT INTO tx VALUES ('f', '{6,6}', 'kept?');
SAVEPOINT s;
INSERT INTO tx VALUES ('g', '{7,7}', 'undone');
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT count(*) AS unchanged FROM tx;
-- A subtransaction that wrote nothing is fine.
BEGIN;
SAVEPOINT s;
SELECT 1;
ROLLBACK TO SAVEPOINT s;
INSERT INTO tx VALUES ('f', '{6,6}', 'kept');
COMMIT;
SELECT id, note FROM tx ORDER BY id;

-- A failing write at COMMIT aborts the commit: here the collection was
-- dropped and re-created meanwhile, so the held rows have nowhere to go.
BEGIN;
INSERT INTO tx VALUES ('h', '{8,8}', 'orphan');
SELECT whiplash_drop_collection('ddb', 'tx');
SELECT collection FROM whiplash_create_collection('ddb', 'tx', 2, metric => 'l2',
                                                  tables => 1, bits => 2, seed => 9);
COMMIT;
SELECT count(*) AS empty_after_failed_commit FROM tx;

-- Past whiplash.write_hold_limit rows, a transaction writes early, says
-- so, and a ROLLBACK cannot undo what was written.
SET whiplash.write_hold_limit = 5;
BEGIN;
INSERT INTO tx SELECT 'r' || i, ARRAY[i, i]::real[], NULL FROM generate_series(1, 8) i;
ROLLBACK;
SELECT count(*) AS written_early FROM tx;
-- A statement that also reads the collection holds all its rows until it
-- ends, so that it never reads its own writes, then writes them early.
SET whiplash.write_hold_limit = 3;
BEGIN;
INSERT INTO tx SELECT id || 'x', vector, note FROM tx;
ROLLBACK;
SELECT count(*) AS doubled, count(*) FILTER (WHERE id LIKE '%xx') AS read_own_writes FROM tx;
RESET whiplash.write_hold_limit;

-- RETURNING returns the rows written: the values inserted, the new values
-- of an update, the row a delete removed (as its scan read it, vector
-- included), so a data-modifying CTE moves rows without losing any.
DELETE FROM tx;
INSERT INTO tx VALUES ('p', '{1,2}', 'one'), ('q', '{3,4}', 'two'), ('r', '{5,6}', NULL)
  RETURNING id, vector, note;
UPDATE tx SET note = 'changed' WHERE id = 'p' RETURNING id, vector, note;
DELETE FROM tx WHERE id = 'r' RETURNING *;
DELETE FROM tx WHERE id = 'nothing' RETURNING *;
CREATE TABLE tx_archive (id text, vector real[], note text);
WITH moved AS (DELETE FROM tx WHERE id IN ('p', 'q') RETURNING *)
INSERT INTO tx_archive SELECT * FROM moved;
SELECT * FROM tx_archive ORDER BY id;
SELECT count(*) AS left_behind FROM tx;
DROP TABLE tx_archive;

SELECT whiplash_drop_collection('ddb', 'tx');
DROP FOREIGN TABLE tx;
