-- Scenario forecasts (flows/forecast.py) and scenario-parameter sweeps (flows/sweep.py).
-- "posterior" intervals are quantiles across posterior draws of a draw's own share of paths
-- (epistemic); "path" intervals pool every path (aleatoric); see models/simulation_result.py.

-- One row per forecast: which fit it used and how it was simulated.
CREATE TABLE forecast_runs (
    run_id         VARCHAR PRIMARY KEY,
    created_at     TIMESTAMP NOT NULL,
    model_run_id   VARCHAR NOT NULL,    -- model_runs.run_id
    model_mode     VARCHAR NOT NULL,    -- publication | fast (reports label fast fits)
    healthy_model  BOOLEAN NOT NULL,    -- the fit's health gate (unhealthy fits are refused)
    origin_month   DATE NOT NULL,       -- last observed month; paths start here
    horizon        DATE NOT NULL,       -- last forecast month
    n_paths        INTEGER NOT NULL,    -- paths per posterior draw
    n_draws        INTEGER NOT NULL,    -- posterior draws used
    seed           BIGINT NOT NULL,     -- the same for every scenario (common random numbers)
    scenarios_json VARCHAR NOT NULL,    -- the scenarios and calendar exactly as simulated
    wall_seconds   DOUBLE NOT NULL
);

-- Pathway probability per forecast month (the fan chart).
CREATE TABLE forecasts (
    run_id    VARCHAR NOT NULL,
    scenario  VARCHAR NOT NULL,
    month     DATE NOT NULL,
    step      INTEGER NOT NULL,        -- months after the origin
    pathway   VARCHAR NOT NULL,        -- DC | SE | MC
    mean      DOUBLE NOT NULL,
    q05       DOUBLE NOT NULL,
    q50       DOUBLE NOT NULL,
    q95       DOUBLE NOT NULL,
    PRIMARY KEY (run_id, scenario, month, pathway)
);

-- Horizon summaries: pathway_at_horizon, share_of_months, ever_DC (posterior intervals) and
-- share_of_months, first_month_in_DC (path intervals: pooled quantiles, mean null; the
-- posterior row of the same measure has the mean).
CREATE TABLE forecast_summaries (
    run_id       VARCHAR NOT NULL,
    scenario     VARCHAR NOT NULL,
    measure      VARCHAR NOT NULL,
    pathway      VARCHAR NOT NULL,
    uncertainty  VARCHAR NOT NULL,     -- posterior | path
    mean         DOUBLE,
    q05          DOUBLE,               -- null for first_month_in_DC: not by the horizon
    q50          DOUBLE,
    q95          DOUBLE,
    unit         VARCHAR NOT NULL,
    PRIMARY KEY (run_id, scenario, measure, pathway, uncertainty)
);

-- Probability of having entered decoupling by each month (first passage).
CREATE TABLE forecast_first_passage (
    run_id    VARCHAR NOT NULL,
    scenario  VARCHAR NOT NULL,
    month     DATE NOT NULL,
    step      INTEGER NOT NULL,
    mean      DOUBLE NOT NULL,
    q05       DOUBLE NOT NULL,
    q50       DOUBLE NOT NULL,
    q95       DOUBLE NOT NULL,
    PRIMARY KEY (run_id, scenario, month)
);

-- One row per sweep. The id is a hash of everything that determines the results (grid,
-- shocks, base scenario, calendar, fit, paths, seed), so re-running a sweep replaces its rows.
CREATE TABLE sweeps (
    sweep_id      VARCHAR PRIMARY KEY,
    created_at    TIMESTAMP NOT NULL,
    grid_json     VARCHAR NOT NULL,    -- the validated grid spec, values after --grid overrides
    source        VARCHAR NOT NULL,    -- the grid file
    model_run_id  VARCHAR NOT NULL,
    points        INTEGER NOT NULL,
    n_paths       INTEGER NOT NULL,    -- paths per posterior draw
    n_draws       INTEGER NOT NULL,
    mode          VARCHAR NOT NULL,    -- the task runner that ran it: threadpool | processpool | dask
    wall_seconds  DOUBLE NOT NULL
);

-- Horizon summaries of every grid point (posterior intervals, as in forecast_summaries).
CREATE TABLE sweep_results (
    sweep_id    VARCHAR NOT NULL,
    point_id    INTEGER NOT NULL,      -- position in the grid (first parameter varies slowest)
    parameters  VARCHAR NOT NULL,      -- JSON {parameter: value}
    seed        BIGINT NOT NULL,       -- derived from the sweep seed and point_id
    measure     VARCHAR NOT NULL,      -- pathway_at_horizon | share_of_months | ever_DC
    pathway     VARCHAR NOT NULL,
    mean        DOUBLE NOT NULL,
    q05         DOUBLE NOT NULL,
    q50         DOUBLE NOT NULL,
    q95         DOUBLE NOT NULL,
    PRIMARY KEY (sweep_id, point_id, measure, pathway)
);
