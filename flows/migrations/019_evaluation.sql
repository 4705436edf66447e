-- Many-origin evaluation on observables (flows/evaluation.py, models/evaluation.py): monthly
-- expanding-window origins, each fitted on the panel as known then with the fast approximate
-- posterior (models/laplace.py), scored against references on the observed series.
CREATE TABLE evaluation_runs (
    evaluation_id      VARCHAR PRIMARY KEY,
    created_at         TIMESTAMP NOT NULL,
    first_origin       DATE NOT NULL,
    last_origin        DATE NOT NULL,
    origins            INTEGER NOT NULL,
    leads              VARCHAR NOT NULL,     -- comma-separated months ahead, e.g. 1,3,6,12
    inference          VARCHAR NOT NULL,     -- how each origin was fitted (laplace)
    draws              INTEGER NOT NULL,     -- posterior draws per fit
    paths              INTEGER NOT NULL,     -- regime paths per draw
    config_hash        VARCHAR NOT NULL,
    config_json        VARCHAR NOT NULL,
    panel_hash         VARCHAR NOT NULL,     -- the latest panel the outcomes come from
    wall_seconds       DOUBLE NOT NULL,      -- the whole flow
    origin_seconds     DOUBLE NOT NULL,      -- fitting, forecasting and scoring the origins
    origins_per_minute DOUBLE NOT NULL,
    headline           VARCHAR NOT NULL      -- the sentence the report and summary print
);

-- One row per fit: how the approximate posterior was found.
CREATE TABLE evaluation_fits (
    evaluation_id VARCHAR NOT NULL,
    origin        DATE NOT NULL,
    model         VARCHAR NOT NULL,          -- hmm | hmm_no_drivers
    series        VARCHAR NOT NULL,          -- comma-separated series fitted at this origin
    converged     BOOLEAN NOT NULL,          -- the optimiser reported convergence
    iterations    INTEGER NOT NULL,
    floored       INTEGER NOT NULL,          -- Hessian eigenvalues raised to the floor
    warm_start    BOOLEAN NOT NULL,          -- started from the previous origin's mode
    seconds       DOUBLE NOT NULL,
    PRIMARY KEY (evaluation_id, origin, model)
);

-- Every scored forecast: `lead` months after `origin`, for series `target`.
CREATE TABLE evaluation_scores (
    evaluation_id VARCHAR NOT NULL,
    origin        DATE NOT NULL,
    model         VARCHAR NOT NULL,          -- hmm | hmm_no_drivers | persistence | ar1 | climatology
    lead          INTEGER NOT NULL,
    target        VARCHAR NOT NULL,
    target_month  DATE NOT NULL,
    observed      DOUBLE NOT NULL,
    pred_mean     DOUBLE NOT NULL,
    crps          DOUBLE NOT NULL,           -- lower is better, the series' units
    log_score     DOUBLE NOT NULL,           -- -log predictive density (KDE), lower is better
    pit           DOUBLE NOT NULL,
    in50          BOOLEAN NOT NULL,          -- inside the central 50% interval
    in90          BOOLEAN NOT NULL,
    PRIMARY KEY (evaluation_id, origin, model, lead, target)
);

-- Skill of each model against each reference: Diebold-Mariano intervals (Newey-West, lag
-- lead - 1) of the mean score difference; target `all` sums the log scores of the series.
CREATE TABLE evaluation_skill (
    evaluation_id VARCHAR NOT NULL,
    model         VARCHAR NOT NULL,
    reference     VARCHAR NOT NULL,
    target        VARCHAR NOT NULL,
    lead          INTEGER NOT NULL,
    metric        VARCHAR NOT NULL,          -- crps | log_score
    origins       INTEGER NOT NULL,
    model_mean    DOUBLE NOT NULL,
    ref_mean      DOUBLE NOT NULL,
    skill         DOUBLE,                    -- crps: 1 - model/ref; log_score: ref - model
    mean_diff     DOUBLE NOT NULL,           -- model - reference, below 0 favours the model
    lower         DOUBLE NOT NULL,           -- 90% interval
    upper         DOUBLE NOT NULL,
    p_value       DOUBLE NOT NULL,
    PRIMARY KEY (evaluation_id, model, reference, target, lead, metric)
);

-- The fast posterior against the publication NUTS fit at a few origins.
CREATE TABLE evaluation_agreement (
    evaluation_id          VARCHAR NOT NULL,
    origin                 DATE NOT NULL,
    max_abs_filtered_diff  DOUBLE NOT NULL,  -- max over months and states, posterior means
    max_abs_origin_diff    DOUBLE NOT NULL,  -- the origin month's filtered probabilities
    crps6_fast             DOUBLE,           -- mean 6-month CRPS over the series observed
    crps6_nuts             DOUBLE,
    max_abs_crps6_diff     DOUBLE,           -- max over series of |fast - NUTS|
    fast_seconds           DOUBLE NOT NULL,
    nuts_seconds           DOUBLE NOT NULL,
    PRIMARY KEY (evaluation_id, origin)
);
