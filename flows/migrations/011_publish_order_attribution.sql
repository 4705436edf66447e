-- Publishing in a crash-safe order (flows/publish.py).

-- A report's files are written into an immutable build folder, `.builds/<build>`, before its
-- row is committed; `<run_id>` is then a link to it. The committed rows decide what the runs
-- index lists and where `latest` points (the healthy publication row published last), so a
-- publish killed after its commit is completed by the next one. Rows written before this
-- migration keep their real folders (build null) and count as published when created.
ALTER TABLE reports ADD COLUMN build VARCHAR;           -- folder name under .builds/; null: legacy
ALTER TABLE reports ADD COLUMN published_at TIMESTAMP;  -- when this row was (re)published
UPDATE reports SET published_at = created_at;
