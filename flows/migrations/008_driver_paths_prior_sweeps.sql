-- How future driver paths were drawn (models/driver_paths.py), and prior-sensitivity sweeps
-- whose points come from fast refits (flows/sweep.py). Rows written before this migration were
-- all simulated with AR(1) Gaussian innovations and from the swept fit itself: the defaults
-- below say exactly that.

-- Forecast runs: ar1 (Gaussian innovations) | bootstrap (moving blocks of historical ones).
ALTER TABLE forecast_runs ADD COLUMN driver_paths VARCHAR NOT NULL DEFAULT 'ar1';
ALTER TABLE forecast_runs ADD COLUMN block_months INTEGER;   -- bootstrap block length; null for ar1

ALTER TABLE sweeps ADD COLUMN driver_paths VARCHAR NOT NULL DEFAULT 'ar1';
ALTER TABLE sweeps ADD COLUMN block_months INTEGER;          -- null for ar1
ALTER TABLE sweeps ADD COLUMN refits INTEGER NOT NULL DEFAULT 0;            -- distinct prior settings
ALTER TABLE sweeps ADD COLUMN unhealthy_refits INTEGER NOT NULL DEFAULT 0;  -- of those, failed the gate

-- A point on a prior axis (priors.<field>) is simulated from a refit of the model with that
-- prior, not from the swept fit: which one, in which sampling mode (fast = ModelConfig.fast(),
-- custom = sampler and gate from another config file), and whether it passed its gate. Points
-- of unhealthy refits are kept and flagged here, never mixed silently with healthy ones.
ALTER TABLE sweep_results ADD COLUMN from_refit BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE sweep_results ADD COLUMN refit_model_run_id VARCHAR;  -- model_runs.run_id
ALTER TABLE sweep_results ADD COLUMN refit_mode VARCHAR;          -- fast | custom; null: no refit
ALTER TABLE sweep_results ADD COLUMN refit_healthy BOOLEAN;       -- null: no refit

-- Why a fit was made: fit (`winset fit`, `winset run`) | prior_sweep (a sweep's refit with
-- changed priors). Forecasts without an explicit fit id only ever use purpose = 'fit'.
ALTER TABLE model_runs ADD COLUMN purpose VARCHAR NOT NULL DEFAULT 'fit';
