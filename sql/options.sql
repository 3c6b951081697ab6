-- Option validation: every malformed value fails at CREATE / ALTER time.
-- No DynamoDB is contacted here.

-- Servers: the valid form, and each kind of mistake.
CREATE SERVER opt_ok FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint 'http://127.0.0.1:8000', region 'eu-west-1', project 'shop',
           stage 'prod', connect_timeout '2s', request_timeout '1500ms',
           max_retries '3', retry_base_delay '10', retry_max_delay '1min',
           max_connections '32');
CREATE SERVER opt_aws FOREIGN DATA WRAPPER whiplash OPTIONS (region 'us-west-2');
CREATE SERVER opt_none FOREIGN DATA WRAPPER whiplash;
CREATE SERVER opt_bad FOREIGN DATA WRAPPER whiplash OPTIONS (regoin 'us-east-1');
CREATE SERVER opt_bad FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint 'ftp://example.com');
CREATE SERVER opt_bad FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint 'localhost 8000');
CREATE SERVER opt_bad FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint 'http://h/?x=1');
CREATE SERVER opt_bad FOREIGN DATA WRAPPER whiplash OPTIONS (region 'US East');
-- A region that names no AWS region is a typo, unless an endpoint is given.
CREATE SERVER opt_bad FOREIGN DATA WRAPPER whiplash OPTIONS (region 'eu-wset-1');
CREATE SERVER opt_typo_ok FOREIGN DATA WRAPPER whiplash
  OPTIONS (region 'local', endpoint 'http://127.0.0.1:8000');
DROP SERVER opt_typo_ok;
CREATE SERVER opt_bad FOREIGN DATA WRAPPER whiplash OPTIONS (region 'us-east-1', project 'my project');
CREATE SERVER opt_bad FOREIGN DATA WRAPPER whiplash OPTIONS (region 'us-east-1', stage '');
CREATE SERVER opt_bad FOREIGN DATA WRAPPER whiplash OPTIONS (region 'us-east-1', connect_timeout 'soon');
CREATE SERVER opt_bad FOREIGN DATA WRAPPER whiplash OPTIONS (region 'us-east-1', request_timeout '5 parsecs');
CREATE SERVER opt_bad FOREIGN DATA WRAPPER whiplash OPTIONS (region 'us-east-1', request_timeout '0');
CREATE SERVER opt_bad FOREIGN DATA WRAPPER whiplash OPTIONS (region 'us-east-1', max_retries 'many');
CREATE SERVER opt_bad FOREIGN DATA WRAPPER whiplash OPTIONS (region 'us-east-1', max_retries '-1');
CREATE SERVER opt_bad FOREIGN DATA WRAPPER whiplash OPTIONS (region 'us-east-1', max_connections '0');
CREATE SERVER opt_bad FOREIGN DATA WRAPPER whiplash OPTIONS (region 'us-east-1', retry_base_delay '2s', retry_max_delay '1s');
CREATE SERVER opt_bad FOREIGN DATA WRAPPER whiplash OPTIONS (region 'us-east-1', ca_file 'relative/ca.pem');
CREATE SERVER opt_bad FOREIGN DATA WRAPPER whiplash OPTIONS (region 'us-east-1', access_key_id 'AKID');

-- ALTER is validated the same way, against the resulting option list.
ALTER SERVER opt_ok OPTIONS (SET max_retries 'lots');
ALTER SERVER opt_ok OPTIONS (DROP endpoint, DROP region);
ALTER SERVER opt_ok OPTIONS (SET max_retries '5', ADD ca_file '/etc/ssl/certs/ca-certificates.crt');
SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname LIKE 'opt_%' ORDER BY 1;

-- User mappings: credentials come in pairs; bad values never echo back.
CREATE USER MAPPING FOR CURRENT_USER SERVER opt_ok
  OPTIONS (access_key_id 'AKIDEXAMPLE', secret_access_key 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
CREATE USER MAPPING FOR PUBLIC SERVER opt_ok OPTIONS (access_key_id 'AKIDEXAMPLE');
CREATE USER MAPPING FOR PUBLIC SERVER opt_ok OPTIONS (secret_access_key 'only the secret');
CREATE USER MAPPING FOR PUBLIC SERVER opt_ok OPTIONS (access_key_id 'AKID', secret_access_key 'has a space');
CREATE USER MAPPING FOR PUBLIC SERVER opt_ok OPTIONS (access_key_id 'AKID', secret_access_key '');
CREATE USER MAPPING FOR PUBLIC SERVER opt_ok OPTIONS (user 'me');
CREATE USER MAPPING FOR PUBLIC SERVER opt_ok OPTIONS (use_env_credentials 'maybe');
CREATE USER MAPPING FOR PUBLIC SERVER opt_ok OPTIONS (use_env_credentials 'true');

-- Only a superuser may let a role use the server's own AWS identity, or
-- name a CA file the server reads.
CREATE ROLE whiplash_opt_user;
GRANT USAGE ON FOREIGN DATA WRAPPER whiplash TO whiplash_opt_user;
GRANT USAGE ON FOREIGN SERVER opt_aws TO whiplash_opt_user;
SET ROLE whiplash_opt_user;
CREATE USER MAPPING FOR whiplash_opt_user SERVER opt_aws OPTIONS (use_env_credentials 'true');
CREATE USER MAPPING FOR whiplash_opt_user SERVER opt_aws OPTIONS (use_env_credentials 'false');
CREATE SERVER opt_user_ca FOREIGN DATA WRAPPER whiplash OPTIONS (region 'us-east-1', ca_file '/etc/passwd');
-- A mapping without credentials is accepted, but cannot connect.
SELECT * FROM whiplash_collections('opt_aws');
RESET ROLE;

-- Foreign tables name a collection; columns take no options.
CREATE FOREIGN TABLE opt_ft (id text, vector real[]) SERVER opt_ok OPTIONS (collection 'docs');
CREATE FOREIGN TABLE opt_ft_bad (id text) SERVER opt_ok OPTIONS (collection 'no/slashes');
CREATE FOREIGN TABLE opt_ft_bad (id text) SERVER opt_ok OPTIONS (table 'docs');
CREATE FOREIGN TABLE opt_ft_bad (id text OPTIONS (name 'x')) SERVER opt_ok;
ALTER FOREIGN DATA WRAPPER whiplash OPTIONS (ADD debug 'true');

-- Settings are reserved under whiplash.*.
SET whiplash.table_wait_timeout = '2min';
SHOW whiplash.table_wait_timeout;
SET whiplash.no_such_setting = 1;
RESET whiplash.table_wait_timeout;

-- Bad arguments to whiplash_setup.
SELECT whiplash_setup(NULL);
SELECT whiplash_setup('no_such_server');
CREATE FOREIGN DATA WRAPPER other_fdw;
CREATE SERVER other_srv FOREIGN DATA WRAPPER other_fdw;
SELECT whiplash_setup('other_srv');

DROP SERVER other_srv;
DROP FOREIGN DATA WRAPPER other_fdw;
DROP FOREIGN TABLE opt_ft;
DROP SERVER opt_ok, opt_aws CASCADE;
DROP OWNED BY whiplash_opt_user;
DROP ROLE whiplash_opt_user;
