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
    checks_json   VARCHAR NOT NULL,     -- predictive checks summary (models/checks.py)
    posterior_path VARCHAR NOT NULL
);

-- Filtered and smoothed pathway probabilities per month of each fit (posterior means).
CREATE TABLE regime_probabilities (
    run_id    VARCHAR NOT NULL,
    month     DATE NOT NULL,
    pathway   VARCHAR NOT NULL,   -- DC | SE | MC
    filtered  DOUBLE NOT NULL,
    smoothed  DOUBLE NOT NULL,
    PRIMARY KEY (run_id, month, pathway)
);

-- Prior against posterior for every driver effect (and transition intercept) of each fit
-- (models/effects.py): shift, contraction, overlap and the prior-dominated flag.
CREATE TABLE model_effects (
    run_id          VARCHAR NOT NULL,
    parameter       VARCHAR NOT NULL,   -- beta | alpha
    term            VARCHAR NOT NULL,   -- driver (beta) or origin state (alpha)
    dest            VARCHAR NOT NULL,   -- SE | MC (against DC)
    prior           VARCHAR NOT NULL,
    prior_mean      DOUBLE NOT NULL,
    prior_sd        DOUBLE NOT NULL,
    post_mean       DOUBLE NOT NULL,
    post_sd         DOUBLE NOT NULL,
    hdi_lower       DOUBLE NOT NULL,
    hdi_upper       DOUBLE NOT NULL,
    shift           DOUBLE NOT NULL,
    contraction     DOUBLE NOT NULL,
    overlap         DOUBLE NOT NULL,
    prior_dominated BOOLEAN NOT NULL,
    PRIMARY KEY (run_id, parameter, term, dest)
);
