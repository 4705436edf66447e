-- GDELT 2.0 backfill (flows/gdelt_backfill.py): one row per 15-minute export file written,
-- in the same transaction as its events, so a killed backfill resumes after the last file
-- recorded here and never writes a file's events twice.
CREATE TABLE gdelt_export_files (
    file_time        TIMESTAMP PRIMARY KEY,  -- the file's 15-minute slot (from its name)
    url              VARCHAR NOT NULL,
    size             BIGINT NOT NULL,        -- as listed and as downloaded
    md5              VARCHAR NOT NULL,       -- as listed and as downloaded
    sha256           VARCHAR NOT NULL,
    rows_kept        BIGINT NOT NULL,        -- USA-CHN events
    rows_rejected    BIGINT NOT NULL,
    codes_normalised BIGINT NOT NULL,        -- CAMEO code fields given their leading zero back
    run_id           VARCHAR NOT NULL,
    ingested_at      TIMESTAMP NOT NULL
);
