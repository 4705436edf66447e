-- Raw tables of the sources added with Trump's second-term polls: VoteHub approval, PLA
-- activity around Taiwan, China's macro series (Wind), UNGA voting, and the State
-- Department's trips and visits. Columns, lineage and natural key as in 003.

-- flows/sources/approval_votehub.py (beside raw_approval: a different publisher and key)
CREATE TABLE raw_approval_votehub (
    poll_id VARCHAR NOT NULL,
    date_end DATE NOT NULL,
    date_start DATE,
    pollster VARCHAR,
    sponsor VARCHAR,
    population VARCHAR,          -- A adults | RV registered | LV likely | V voters
    sample_size BIGINT,
    approve DOUBLE,
    disapprove DOUBLE,
    partisan VARCHAR,            -- REP | DEM where VoteHub flags a partisan sponsor
    internal BOOLEAN,
    source_url VARCHAR,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (poll_id)
);

-- flows/sources/pla_activity.py: one row per reported day; null = not reported, never 0
CREATE TABLE raw_pla_activity (
    "date" DATE NOT NULL,
    aircraft BIGINT,
    vessels BIGINT,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (date)
);

-- flows/sources/china_macro.py: gdp_real_yoy (quarterly), manufacturing_pmi, cpi_yoy
CREATE TABLE raw_china_macro (
    series VARCHAR NOT NULL,
    period_end DATE NOT NULL,
    value DOUBLE,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (series, period_end)
);

-- flows/sources/unga.py
CREATE TABLE raw_unga (
    iso3c VARCHAR NOT NULL,
    ccode BIGINT,
    session BIGINT NOT NULL,
    session_start DATE,
    votes BIGINT,
    ideal_point DOUBLE,
    ideal_point_q5 DOUBLE,
    ideal_point_q95 DOUBLE,
    agree_usa DOUBLE,
    agree_china DOUBLE,
    agree_russia DOUBLE,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (iso3c, session)
);

-- flows/sources/state_visits.py
CREATE TABLE raw_us_travels (
    id VARCHAR NOT NULL,
    role VARCHAR,                -- president | secretary
    name VARCHAR,
    start_date DATE,
    end_date DATE,
    country_id VARCHAR,
    country VARCHAR,
    locale VARCHAR,
    remarks VARCHAR,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (id)
);

CREATE TABLE raw_leader_visits (
    id VARCHAR NOT NULL,
    start_date DATE,
    end_date DATE,
    visitor VARCHAR,
    from_country VARCHAR,
    description VARCHAR,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (id)
);
