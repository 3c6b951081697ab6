-- whiplash 0.3.0 to 0.4.0: foreign tables checked where they are defined.
\echo Use "ALTER EXTENSION whiplash UPDATE TO '0.4.0'" to load this file. \quit

-- Refuses, where it is defined, a whiplash foreign table with no
-- collection option or no column that can hold its vector (an FDW's
-- validator sees options, not columns).
CREATE FUNCTION whiplash_ddl_check()
RETURNS event_trigger
AS 'MODULE_PATHNAME'
LANGUAGE C;

CREATE EVENT TRIGGER whiplash_ddl_check ON ddl_command_end
  WHEN TAG IN ('CREATE FOREIGN TABLE', 'ALTER FOREIGN TABLE', 'ALTER TABLE',
               'IMPORT FOREIGN SCHEMA')
  EXECUTE FUNCTION whiplash_ddl_check();
