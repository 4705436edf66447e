-- Validity beside sampler health (flows/fit.py, models/validity.py): how often a fit's most
-- likely pathway agrees with the operational classification of data/pathways.yaml and with
-- the timeline's labels, and what always answering the most common pathway would score.
-- Fits recorded before this migration have nulls: their validity was never measured.
ALTER TABLE model_runs ADD COLUMN rules_version INTEGER;        -- data/pathways.yaml version
ALTER TABLE model_runs ADD COLUMN rule_agreement DOUBLE;        -- share of classifiable months
ALTER TABLE model_runs ADD COLUMN rule_months INTEGER;          -- classifiable months in the fit window
ALTER TABLE model_runs ADD COLUMN rule_constant DOUBLE;         -- the constant classifier's share
ALTER TABLE model_runs ADD COLUMN label_agreement DOUBLE;       -- share of labelled months
ALTER TABLE model_runs ADD COLUMN label_months INTEGER;
ALTER TABLE model_runs ADD COLUMN label_constant DOUBLE;        -- always the modal label
ALTER TABLE model_runs ADD COLUMN label_modal VARCHAR;
ALTER TABLE model_runs ADD COLUMN valid BOOLEAN;                -- null: not measured
ALTER TABLE model_runs ADD COLUMN validity_problems VARCHAR;    -- '; '-joined, '' when valid

-- The classification each fit was judged against, month by month (models/pathway_rules.py).
CREATE TABLE pathway_classification (
    run_id      VARCHAR NOT NULL,   -- model_runs.run_id
    month       DATE NOT NULL,
    pathway     VARCHAR,            -- DC | SE | MC; null: unclassifiable or quiet
    rule        VARCHAR NOT NULL,   -- the rule that fired, unclassifiable or quiet
    decided_by  DATE,               -- the month of the window whose evidence decided
    evidence    VARCHAR NOT NULL,
    PRIMARY KEY (run_id, month)
);

-- Prior sweeps (flows/sweep.py): P(DC at the horizon) across the points of the sweep's prior
-- axes, and whether it moves by more than the prior-determined threshold. Null for sweeps
-- without prior axes, and for sweeps recorded before this migration.
ALTER TABLE sweeps ADD COLUMN dc_at_horizon_min DOUBLE;
ALTER TABLE sweeps ADD COLUMN dc_at_horizon_max DOUBLE;
ALTER TABLE sweeps ADD COLUMN prior_determined BOOLEAN;
