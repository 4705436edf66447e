-- Prior-only forecasts (flows/forecast.py) and how each driver month was filled (flows/fit.py).

-- Every forecast run also simulates each scenario with the transition intercepts and driver
-- effects drawn from their priors instead of the posterior, with the same seed, driver paths
-- and starting probabilities (models/forecast.py, prior_only). Horizon summaries as in
-- forecast_summaries' posterior rows; the difference from them is what the data taught.
CREATE TABLE forecast_prior_only (
    run_id    VARCHAR NOT NULL,        -- forecast_runs.run_id
    scenario  VARCHAR NOT NULL,
    measure   VARCHAR NOT NULL,        -- pathway_at_horizon | share_of_months | ever_DC
    pathway   VARCHAR NOT NULL,
    mean      DOUBLE NOT NULL,
    q05       DOUBLE NOT NULL,         -- quantiles across prior draws
    q50       DOUBLE NOT NULL,
    q95       DOUBLE NOT NULL,
    PRIMARY KEY (run_id, scenario, measure, pathway)
);

-- One row per fit, month and base driver: observed (a component was published that month),
-- carried_forward (the last value, months_since_observed after the last observation),
-- before_first_observation or beyond_carry_limit (both set to 0, the training mean); see
-- models/drivers.py.
CREATE TABLE driver_flags (
    run_id                 VARCHAR NOT NULL,   -- model_runs.run_id
    month                  DATE NOT NULL,
    driver                 VARCHAR NOT NULL,
    status                 VARCHAR NOT NULL,
    months_since_observed  INTEGER,            -- null before the first observation
    components_observed    INTEGER NOT NULL,   -- components published that month
    components             INTEGER NOT NULL,   -- components in the composite
    PRIMARY KEY (run_id, month, driver)
);
