-- Publishing in a crash-safe order (flows/publish.py) and the driver attribution of each
-- scenario's move (models/attribution.py, flows/forecast.py).

-- A report's files are written into an immutable build folder, `.builds/<build>`, before its
-- row is committed; `<run_id>` is then a link to it. The committed rows decide what the runs
-- index lists and where `latest` points (the healthy publication row published last), so a
-- publish killed after its commit is completed by the next one. Rows written before this
-- migration keep their real folders (build null) and count as published when created.
ALTER TABLE reports ADD COLUMN build VARCHAR;           -- folder name under .builds/; null: legacy
ALTER TABLE reports ADD COLUMN published_at TIMESTAMP;  -- when this row was (re)published
UPDATE reports SET published_at = created_at;

-- Which driver moved each scenario: the change in P(pathway at the horizon) from the baseline
-- scenario, re-simulated with one driver's shocks switched to the scenario's at a time (the
-- others held at the baseline's) with the forecast's seed. `part` is a base driver, the
-- remainder `interaction` (parts then sum to the total exactly), or `total` (scenario minus
-- baseline). Intervals are across posterior draws of each draw's own change.
CREATE TABLE forecast_attribution (
    run_id    VARCHAR NOT NULL,     -- forecast_runs.run_id
    scenario  VARCHAR NOT NULL,
    part      VARCHAR NOT NULL,     -- W_US | W_CN | INTL | interaction | total
    pathway   VARCHAR NOT NULL,     -- DC | SE | MC
    mean      DOUBLE NOT NULL,      -- change in probability (scenario minus baseline)
    q05       DOUBLE NOT NULL,
    q95       DOUBLE NOT NULL,
    PRIMARY KEY (run_id, scenario, part, pathway)
);
