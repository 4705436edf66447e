-- Rolling-origin backtests (flows/backtest.py, models/backtest.py). One run scores several
-- origins; each origin fits the HMM and the HMM without drivers on data as of that origin.
CREATE TABLE backtest_runs (
    backtest_id    VARCHAR PRIMARY KEY,
    created_at     TIMESTAMP NOT NULL,
    origins        VARCHAR NOT NULL,     -- comma-separated YYYY-MM
    horizons       VARCHAR NOT NULL,     -- comma-separated months, e.g. 1,3,6,12
    fast           BOOLEAN NOT NULL,     -- fast sampling settings (ModelConfig.fast)
    config_hash    VARCHAR NOT NULL,     -- the config before per-origin series selection
    config_json    VARCHAR NOT NULL,
    panel_hash     VARCHAR NOT NULL,     -- the latest panel the outcomes come from
    fits           INTEGER NOT NULL,
    unhealthy_fits INTEGER NOT NULL,
    wall_seconds   DOUBLE NOT NULL
);

-- One row per model fit at an origin: its health (R-hat, ESS, ...), recorded healthy or not.
CREATE TABLE backtest_fits (
    backtest_id   VARCHAR NOT NULL,
    origin        DATE NOT NULL,
    model         VARCHAR NOT NULL,      -- hmm | hmm_no_drivers
    series        VARCHAR NOT NULL,      -- comma-separated series fitted at this origin
    config_hash   VARCHAR NOT NULL,
    data_hash     VARCHAR NOT NULL,
    first_month   DATE NOT NULL,
    last_month    DATE NOT NULL,
    healthy       BOOLEAN NOT NULL,
    problems      VARCHAR NOT NULL,
    max_rhat      DOUBLE,
    min_ess_bulk  DOUBLE,
    min_ess_tail  DOUBLE,
    divergences   INTEGER,
    min_bfmi      DOUBLE,
    wall_seconds  DOUBLE NOT NULL,
    PRIMARY KEY (backtest_id, origin, model)
);

-- Every score: a forecast made at `origin`, `lead` months ahead (reported under the smallest
-- named `horizon` >= lead), for `target` (label, or an observed series) in `target_month`.
-- Lower is better except metric log_density.
CREATE TABLE backtests (
    backtest_id   VARCHAR NOT NULL,
    origin        DATE NOT NULL,
    model         VARCHAR NOT NULL,      -- hmm | hmm_no_drivers | uniform | climatology | persistence
    horizon       INTEGER NOT NULL,
    lead          INTEGER NOT NULL,
    target_month  DATE NOT NULL,
    target        VARCHAR NOT NULL,      -- label | bilateral_tension | us_tariff | ...
    metric        VARCHAR NOT NULL,      -- rps | brier | log_score | crps | log_density
    score         DOUBLE NOT NULL,
    healthy       BOOLEAN,               -- the fit passed its health gate; null for baselines
    PRIMARY KEY (backtest_id, origin, model, lead, target, metric)
);

-- Calibration inputs: every forecast (scored or not) with its outcome, null when none.
CREATE TABLE backtest_forecasts (
    backtest_id   VARCHAR NOT NULL,
    origin        DATE NOT NULL,
    model         VARCHAR NOT NULL,
    horizon       INTEGER NOT NULL,
    lead          INTEGER NOT NULL,
    target_month  DATE NOT NULL,
    target        VARCHAR NOT NULL,
    p_dc          DOUBLE,                -- label forecasts: P(label = DC, SE, MC)
    p_se          DOUBLE,
    p_mc          DOUBLE,
    pred_mean     DOUBLE,                -- series forecasts: predictive mean and PIT
    observed      DOUBLE,                -- label (0=DC, 1=SE, 2=MC) or the series value
    pit           DOUBLE,
    PRIMARY KEY (backtest_id, origin, model, lead, target)
);
