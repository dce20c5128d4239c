-- One Mapbox Vector Tile with two layers: "shops" and "boundaries" (municipalities).
-- Binds: z, x, y; cluster (true below the clustering zoom); grid (cluster cell, tile units);
-- programme (text or NULL); categories, amenities (text[], empty = any); municipality (text or NULL).
WITH
bounds AS (
    SELECT
        ST_TileEnvelope(:z, :x, :y) AS env,
        ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096), 4326) AS env4326,
        -- one tile unit in metres, for simplifying boundaries to what the tile can show
        (40075016.6855785 / 4096.0) / (2 ^ :z) AS unit
),
live AS (
    SELECT
        s.id, s.name, s.categories, s.amenities, p.code AS programme, s.municipality_code,
        ST_AsMVTGeom(ST_Transform(geometry(s.location), 3857), b.env, 4096, 64, true) AS geom
    FROM shops AS s
    JOIN programmes AS p ON p.id = s.programme_id
    CROSS JOIN bounds AS b
    WHERE s.status = 'active'
      AND geometry(s.location) && b.env4326
      AND (CAST(:programme AS text) IS NULL OR p.code = CAST(:programme AS text))
      AND (cardinality(CAST(:categories AS text[])) = 0 OR s.categories @> CAST(:categories AS text[]))
      AND (cardinality(CAST(:amenities AS text[])) = 0 OR s.amenities @> CAST(:amenities AS text[]))
      AND (CAST(:municipality AS text) IS NULL OR s.municipality_code = CAST(:municipality AS text))
),
points AS (
    SELECT id, name, array_to_string(categories, ',') AS categories,
           array_to_string(amenities, ',') AS amenities, programme, municipality_code,
           1 AS point_count, geom
    FROM live
    WHERE NOT CAST(:cluster AS boolean) AND geom IS NOT NULL
),
clusters AS (
    -- Below the clustering zoom: one point per grid cell, with how many shops it stands for.
    SELECT min(id) AS id, CASE WHEN count(*) = 1 THEN min(name) END AS name,
           NULL::text AS categories, NULL::text AS amenities, NULL::text AS programme,
           NULL::text AS municipality_code, count(*)::int AS point_count,
           ST_SnapToGrid(ST_Centroid(ST_Collect(geom)), 1) AS geom
    FROM live
    WHERE CAST(:cluster AS boolean) AND geom IS NOT NULL
    GROUP BY ST_SnapToGrid(geom, CAST(:grid AS float8))
),
shop_layer AS (
    SELECT * FROM points
    UNION ALL
    SELECT * FROM clusters
),
boundary_layer AS (
    SELECT bd.code, bd.name,
           ST_AsMVTGeom(
               ST_Simplify(ST_Transform(bd.geom, 3857), b.unit), b.env, 4096, 64, true
           ) AS geom
    FROM boundaries AS bd
    CROSS JOIN bounds AS b
    WHERE bd.geom && b.env4326
)
SELECT
    COALESCE((SELECT ST_AsMVT(shop_layer, 'shops', 4096, 'geom', 'id') FROM shop_layer), ''::bytea)
    || COALESCE(
        (SELECT ST_AsMVT(t, 'boundaries', 4096, 'geom') FROM boundary_layer AS t WHERE t.geom IS NOT NULL),
        ''::bytea
    ) AS tile
