-- One row per source and live ingest run (flows/refresh.py): did its download and validation
-- succeed, and if not, why. A source's "stale since" is its last successful refresh; bundled
-- and file ingests are not refreshes and leave no rows here.
CREATE TABLE source_refreshes (
    run_id       VARCHAR NOT NULL,      -- the ingest run (ingest_runs.run_id)
    source       VARCHAR NOT NULL,
    ok           BOOLEAN NOT NULL,
    error        VARCHAR,               -- one line naming the file, row and field; null if ok
    attempted_at TIMESTAMP NOT NULL,    -- the ingest run's start (UTC)
    PRIMARY KEY (run_id, source)
);
