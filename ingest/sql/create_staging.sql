-- The run's staging tables. They hold rows as the load wrote them and leave their values
-- uncompressed, like shops (migration s8_3_rows_uncompressed): toast_tuple_target.
CREATE TEMP TABLE staging_shops (
    line integer NOT NULL,
    programme_id smallint NOT NULL,
    source text NOT NULL,
    source_id text NOT NULL,
    name text NOT NULL,
    name_kana text,
    name_key text NOT NULL,
    kana_key text,
    address text NOT NULL,
    prefecture text,
    municipality text,
    town text,
    address_rest text,
    building text,
    postal_code text,
    phone text,
    url text,
    hours text,
    closed_days text,
    perk_text text,
    categories text[] NOT NULL,
    amenities text[] NOT NULL,
    tags jsonb NOT NULL,
    card_required boolean,
    cards text[] NOT NULL,
    multi_child boolean NOT NULL,
    nationwide boolean NOT NULL DEFAULT false,
    municipality_code text,
    lg_code text,
    lat double precision,
    lng double precision,
    geocode_precision text,
    geocode_source text,
    location_flags text[] NOT NULL,
    registered_on date,
    expires_on date,
    withdrawn_on date,
    closed_on date,
    status text NOT NULL,
    derive_kana boolean NOT NULL,
    content_hash text NOT NULL,
    romaji_key text,
    name_codes bigint[],
    address_codes bigint[]
) WITH (toast_tuple_target = 8160) ON COMMIT DROP;
CREATE TEMP TABLE staging_held (LIKE staging_shops) WITH (toast_tuple_target = 8160) ON COMMIT DROP;
CREATE TEMP TABLE staging_kana (
    line integer NOT NULL, name_kana text, kana_key text, romaji_key text, name_codes bigint[],
    address_codes bigint[]
) WITH (toast_tuple_target = 8160) ON COMMIT DROP;
CREATE TEMP TABLE staging_seen (source_id text NOT NULL) ON COMMIT DROP;
