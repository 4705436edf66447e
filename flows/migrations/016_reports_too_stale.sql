-- A run too stale to become `latest` (flows/refresh.py: a key source stale, or more than a
-- third of the live sources): it is published and listed, but the latest-derivation
-- (flows/publish.py, latest_run) skips it, so the last good report stays `latest`. Null when
-- the run may become `latest`; else why not. Rows written before this migration were never
-- judged stale.
ALTER TABLE reports ADD COLUMN too_stale VARCHAR;
