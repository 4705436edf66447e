-- Resolutions of the ledger's entries (flows/ledger.py): scored once, with the data vintage
-- that resolved them, and never rescored. Insert-only like the entries.

-- One row per resolved entry and forecaster. kind = quantity (item = series, horizon set;
-- crps, log_score, pit) or question (item = question id; brier, log_score, outcome).
CREATE TABLE ledger_resolutions (
    run_id       VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL,
    item         VARCHAR NOT NULL,
    horizon      VARCHAR NOT NULL,            -- the quantity's horizon; '' for a question
    forecaster   VARCHAR NOT NULL,
    target_month DATE NOT NULL,
    observed     DOUBLE NOT NULL,             -- the series' value for target_month
    outcome      BOOLEAN,                     -- questions: did it resolve YES
    forecast     DOUBLE,                      -- questions: the probability of YES
    crps         DOUBLE,
    brier        DOUBLE,
    log_score    DOUBLE,
    pit          DOUBLE,
    panel_hash   VARCHAR NOT NULL,            -- the panel that brought the outcome
    resolved_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, kind, item, horizon, forecaster)
);

-- A value that changed after it resolved entries (a data revision): noted once per series,
-- month and revised value; the entries keep the scores of the value that resolved them.
CREATE TABLE ledger_revisions (
    series        VARCHAR NOT NULL,
    target_month  DATE NOT NULL,
    resolved_value DOUBLE NOT NULL,
    revised_value DOUBLE NOT NULL,
    panel_hash    VARCHAR NOT NULL,
    noted_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (series, target_month, revised_value)
);
