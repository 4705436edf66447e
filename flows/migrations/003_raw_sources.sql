-- Raw tables of every source but FRED (002). Each has its connector's columns, lineage
-- (source, file, sha256, ingested_at) and the connector's natural key.

-- flows/sources/census_trade.py
CREATE TABLE raw_census_trade (
    month DATE NOT NULL,
    exports DOUBLE,
    imports DOUBLE,
    balance DOUBLE,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (month)
);

-- flows/sources/imf_fx.py
CREATE TABLE raw_imf_fx (
    "date" DATE NOT NULL,
    cny_per_usd DOUBLE,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (date)
);

-- flows/sources/tariffs.py
CREATE TABLE raw_tariffs (
    dataset VARCHAR NOT NULL,
    series VARCHAR NOT NULL,
    "date" DATE NOT NULL,
    date_precision VARCHAR,
    value_pct DOUBLE,
    note VARCHAR,
    reference VARCHAR,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (dataset, series, date)
);

-- flows/sources/gdelt.py
CREATE TABLE raw_gdelt_events (
    global_event_id BIGINT NOT NULL,
    event_date DATE,
    actor1_country VARCHAR,
    actor2_country VARCHAR,
    event_code VARCHAR,
    event_base_code VARCHAR,
    event_root_code VARCHAR,
    quad_class TINYINT,
    goldstein DOUBLE,
    num_mentions BIGINT,
    num_sources BIGINT,
    num_articles BIGINT,
    avg_tone DOUBLE,
    date_added TIMESTAMP,
    source_url VARCHAR,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (global_event_id)
);

-- flows/sources/gdelt_graph.py
CREATE TABLE raw_gdelt_graph (
    "date" DATE NOT NULL,
    usa_chn_edge DOUBLE,
    usa_row_sum DOUBLE,
    chn_row_sum DOUBLE,
    usa_row_abs_sum DOUBLE,
    chn_row_abs_sum DOUBLE,
    chn_twn_edge DOUBLE,
    usa_rus_edge DOUBLE,
    global_upper_triangle_sum DOUBLE,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (date)
);

-- flows/sources/ai_gpr.py
CREATE TABLE raw_ai_gpr (
    series VARCHAR NOT NULL,
    month DATE NOT NULL,
    value DOUBLE,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (series, month)
);

-- flows/sources/gpr.py
CREATE TABLE raw_gpr (
    series VARCHAR NOT NULL,
    month DATE NOT NULL,
    value DOUBLE,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (series, month)
);

-- flows/sources/epu.py
CREATE TABLE raw_epu (
    series VARCHAR NOT NULL,
    month DATE NOT NULL,
    value DOUBLE,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (series, month)
);

-- flows/sources/cpi.py
CREATE TABLE raw_cpi (
    month DATE NOT NULL,
    cpi_index DOUBLE,
    inflation_mom_pct DOUBLE,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (month)
);

-- flows/sources/approval.py
CREATE TABLE raw_approval (
    president VARCHAR NOT NULL,
    term_number BIGINT,
    poll_start DATE NOT NULL,
    poll_end DATE NOT NULL,
    polling_institute VARCHAR NOT NULL,
    approval DOUBLE,
    disapproval DOUBLE,
    no_opinion DOUBLE,
    sample_size BIGINT,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (president, poll_start, poll_end, polling_institute)
);

-- flows/sources/timeline.py
CREATE TABLE raw_timeline (
    "date" DATE NOT NULL,
    event VARCHAR NOT NULL,
    category VARCHAR,
    pathway_signal VARCHAR,
    reference VARCHAR,
    verified VARCHAR,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (date, event)
);

-- flows/sources/timeline.py
CREATE TABLE raw_tariff_actions (
    "date" DATE,
    date_text VARCHAR NOT NULL,
    readme_section VARCHAR NOT NULL,
    authority VARCHAR,
    reference VARCHAR NOT NULL,
    description VARCHAR,
    mentions_china_or_hk BOOLEAN,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (date_text, readme_section, reference)
);

