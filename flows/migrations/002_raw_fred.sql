-- FRED single series in long form (flows/sources/fred.py).
CREATE TABLE raw_fred (
    series      VARCHAR NOT NULL,
    date        DATE NOT NULL,
    value       DOUBLE,
    source      VARCHAR NOT NULL,
    file        VARCHAR NOT NULL,
    sha256      VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (series, date)
);
