-- The resolution ledger's entries (flows/ledger.py): what every published forecast said, kept
-- so it can be scored when the outcome arrives. Insert-only: rows are never updated or
-- deleted (flows/ledger_store.py refuses a key that exists), and publishing a run again adds
-- nothing.

-- One row per published forecast run: its data vintage and identity.
CREATE TABLE ledger_entries (
    run_id             VARCHAR PRIMARY KEY,   -- forecast_runs.run_id
    recorded_at        TIMESTAMP NOT NULL,
    model_run_id       VARCHAR NOT NULL,
    config_hash        VARCHAR NOT NULL,
    panel_hash         VARCHAR NOT NULL,      -- sha256 of panel_monthly when recorded
    origin             DATE NOT NULL,         -- the panel's last month: leads count from it
    source_months_json VARCHAR NOT NULL,      -- {source: last month in its raw table}
    n_draws            INTEGER NOT NULL       -- stored quantile draws per quantity
);

-- Per forecaster (model, no_drivers, random_walk, climatology), observed series and horizon
-- (1m, 3m, 6m, 12m, 2029-01): the predictive distribution's summary and its quantile draws.
CREATE TABLE ledger_quantities (
    run_id       VARCHAR NOT NULL,
    forecaster   VARCHAR NOT NULL,
    series       VARCHAR NOT NULL,
    horizon      VARCHAR NOT NULL,
    target_month DATE NOT NULL,
    mean         DOUBLE NOT NULL,
    q05          DOUBLE NOT NULL,
    q25          DOUBLE NOT NULL,
    q50          DOUBLE NOT NULL,
    q75          DOUBLE NOT NULL,
    q95          DOUBLE NOT NULL,
    draws        DOUBLE[] NOT NULL,
    PRIMARY KEY (run_id, forecaster, series, horizon)
);

-- Per question (data/questions.yaml) and forecaster: the probability of YES. The question's
-- words and rule are copied in, so a later edit of the file never changes what was asked;
-- probability is null when the forecaster has no forecast of the series (the model forecasts
-- only the series it emits).
CREATE TABLE ledger_questions (
    run_id       VARCHAR NOT NULL,
    question_id  VARCHAR NOT NULL,
    forecaster   VARCHAR NOT NULL,
    text         VARCHAR NOT NULL,
    resolves     VARCHAR NOT NULL,
    series       VARCHAR NOT NULL,
    target_month DATE NOT NULL,
    op           VARCHAR NOT NULL,
    threshold    DOUBLE NOT NULL,             -- the number compared with (origin value added)
    probability  DOUBLE,
    PRIMARY KEY (run_id, question_id, forecaster)
);
