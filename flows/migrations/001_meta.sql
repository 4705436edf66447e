-- Bookkeeping shared by every source: what was ingested when, and what was refused.
CREATE TABLE ingest_runs (
    run_id       VARCHAR PRIMARY KEY,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP NOT NULL,
    mode         VARCHAR NOT NULL,      -- bundled | live | file
    files        INTEGER NOT NULL,
    inserted     BIGINT NOT NULL,
    updated      BIGINT NOT NULL,
    unchanged    BIGINT NOT NULL,
    rejected     BIGINT NOT NULL
);

CREATE TABLE ingested_files (
    sha256       VARCHAR NOT NULL,
    source       VARCHAR NOT NULL,
    dataset      VARCHAR NOT NULL,
    file         VARCHAR NOT NULL,
    rows_kept    BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    first_run_id VARCHAR NOT NULL,
    ingested_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (sha256, source, dataset)
);

CREATE TABLE rejects (
    source       VARCHAR NOT NULL,
    dataset      VARCHAR NOT NULL,
    file         VARCHAR NOT NULL,
    sha256       VARCHAR NOT NULL,
    "row"        BIGINT NOT NULL,
    field        VARCHAR,
    reason       VARCHAR NOT NULL,
    raw          VARCHAR,
    run_id       VARCHAR NOT NULL,
    ingested_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (sha256, source, dataset, "row")
);
