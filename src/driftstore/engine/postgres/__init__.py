"""The PostgreSQL engine: many projects in one database, each behind the engine interface
(psycopg 3 with a connection pool; installed with the `postgres` extra)."""
