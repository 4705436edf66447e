-- One row per published report (flows/publish.py): where it is, whether it may be `latest`,
-- and its headline, so the next report can say what moved.
CREATE TABLE reports (
    run_id           VARCHAR PRIMARY KEY,   -- the forecast run it reports
    created_at       TIMESTAMP NOT NULL,
    model_run_id     VARCHAR NOT NULL,
    config_hash      VARCHAR NOT NULL,
    fit_mode         VARCHAR NOT NULL,
    healthy          BOOLEAN NOT NULL,
    data_through     DATE NOT NULL,
    horizon          DATE NOT NULL,
    scenario         VARCHAR NOT NULL,      -- the headline scenario
    headline_json    VARCHAR NOT NULL,      -- its horizon summary rows
    driver_last_json VARCHAR NOT NULL,      -- each driver's last value
    folder           VARCHAR NOT NULL
);
