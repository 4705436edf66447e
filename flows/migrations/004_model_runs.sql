-- One row per fit of the pathway model (flows/fit.py): what was fitted, how well, and where
-- its posterior is. Unhealthy fits are recorded too and never used for forecasts.
CREATE TABLE model_runs (
    run_id        VARCHAR PRIMARY KEY,
    created_at    TIMESTAMP NOT NULL,
    config_hash   VARCHAR NOT NULL,
    data_hash     VARCHAR NOT NULL,
    panel_hash    VARCHAR NOT NULL,
    config_json   VARCHAR NOT NULL,
    mode          VARCHAR NOT NULL,      -- publication | fast
    backend       VARCHAR NOT NULL,
    chains        INTEGER NOT NULL,
    draws         INTEGER NOT NULL,
    seed          BIGINT NOT NULL,
    first_month   DATE NOT NULL,
    last_month    DATE NOT NULL,
    wall_seconds  DOUBLE NOT NULL,
    max_rhat      DOUBLE,
    min_ess_bulk  DOUBLE,
    min_ess_tail  DOUBLE,
    divergences   INTEGER,
    min_bfmi      DOUBLE,
    healthy       BOOLEAN NOT NULL,
    problems      VARCHAR NOT NULL,
    posterior_path VARCHAR NOT NULL
);
