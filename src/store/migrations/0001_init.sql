-- Schema version 1 of the PostgreSQL store (see src/store/postgres.rs). Run once, in the
-- transaction that records the version in atlas_schema.
CREATE EXTENSION IF NOT EXISTS postgis;

-- The geometry of a stored feature's GeoJSON geometry text, in EPSG:4326 with its altitudes;
-- NULL when PostGIS cannot read it (the text stays the stored form).
CREATE FUNCTION atlas_geometry(geojson text) RETURNS geometry
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN ST_SetSRID(ST_GeomFromGeoJSON(geojson), 4326);
EXCEPTION WHEN others THEN
  RETURN NULL;
END $$;

-- The latest state of every written feature; feature NULL is a tombstone.
CREATE TABLE atlas_features (
  layer text NOT NULL,
  id bigint NOT NULL,
  feature text,
  geom geometry,
  base text,
  seq bigint NOT NULL,
  PRIMARY KEY (layer, id)
);
CREATE INDEX atlas_features_geom ON atlas_features USING gist (geom);

-- Every change, in commit order: replicas apply the changes after the last one they applied.
CREATE TABLE atlas_changes (
  seq bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  layer text NOT NULL,
  id bigint NOT NULL,
  kind text NOT NULL CHECK (kind IN ('create', 'update', 'delete')),
  feature text,
  base text
);

-- The highest id given out per layer, so that ids are never reused.
CREATE TABLE atlas_id_seq (
  layer text PRIMARY KEY,
  last bigint NOT NULL
);

-- The first result of every POST with an Idempotency-Key.
CREATE TABLE atlas_idempotency (
  layer text NOT NULL,
  key text NOT NULL,
  fingerprint bytea NOT NULL,
  id bigint NOT NULL,
  body text NOT NULL,
  etag text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (layer, key)
);
