//! Tiles over HTTP: bad coordinates, ETags, 304, gzip and empty tiles, the cache across layer
//! generations, metadata documents, the OpenAPI routes, one prepared layer under concurrent
//! requests and the cache in `/health`.

use super::*;

#[actix_web::test]
async fn bad_coordinates_are_400_naming_the_value() {
    for (uri, value) in [
        ("/tiles/incidents/23/0/0", "23"),
        ("/tiles/incidents/3/8/0", "8"),
        ("/tiles/incidents/3/0/9.pbf", "9"),
        ("/tiles/incidents/3/-1/0", "-1"),
        ("/tiles/incidents/z/0/0", "z"),
        (
            "/tiles/incidents/99999999999999999999999/0/0",
            "99999999999999999999999",
        ),
        ("/collections/incidents/tiles/WebMercatorQuad/2/4/0", "4"),
    ] {
        let r = get(uri).await;
        assert_eq!(r.status, 400, "{uri}");
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        let detail = r.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains(&format!("\"{value}\"")), "{uri}: {detail}");
    }
    assert_eq!(get("/tiles/nowhere/0/0/0").await.status, 404);
    assert_eq!(get("/tiles/incidents/0/0/0?foo=1").await.status, 400);
    assert_eq!(
        get("/collections/incidents/tiles/WorldCRS84Quad/0/0/0")
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn etag_304_gzip_and_empty_tiles() {
    let state = atlas();
    let uri = "/tiles/countries/1/1/0";
    let plain = get_with(&state, uri, &[]).await;
    assert_eq!(plain.status, 200);
    assert!(plain.header("content-encoding").is_none());
    let etag = plain.header("etag").unwrap().to_owned();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"));
    assert!(plain.header("cache-control").unwrap().contains("max-age="));
    let gz: Reply = get_with(&state, uri, &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(gz.header("x-tile-cache"), Some("hit"));
    // One entity tag per coding: the tile's with the coding inside the quotes.
    let gz_etag = gz.header("etag").unwrap().to_owned();
    assert_eq!(gz_etag, format!("{}-gzip\"", etag.trim_end_matches('"')));
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&gz.body[..])
        .read_to_end(&mut raw)
        .unwrap();
    assert_eq!(raw, plain.body);
    let again = get_with(&state, uri, &[("If-None-Match", &etag)]).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let gz_again = get_with(
        &state,
        uri,
        &[("If-None-Match", &gz_etag), ("Accept-Encoding", "gzip")],
    )
    .await;
    assert_eq!(gz_again.status, 304);
    // A browser's list takes zstd, compressed once per cached tile.
    let browser = [("Accept-Encoding", "gzip, deflate, br, zstd")];
    let zs = get_with(&state, uri, &browser).await;
    assert_eq!(zs.header("content-encoding"), Some("zstd"));
    assert_eq!(zstd::decode_all(&zs.body[..]).unwrap(), plain.body);
    assert_eq!(get_with(&state, uri, &browser).await.body, zs.body);
    // An empty tile (the South Pacific has no incident) is 204, every time.
    for _ in 0..2 {
        let r = get_with(&state, "/tiles/incidents/4/1/10", &[]).await;
        assert_eq!(r.status, 204);
        assert!(r.body.is_empty());
        assert!(r.header("etag").is_some());
    }
    // The OGC path serves the same bytes (row before column).
    let ogc = get_with(
        &state,
        "/collections/countries/tiles/WebMercatorQuad/1/0/1",
        &[],
    )
    .await;
    assert_eq!(ogc.status, 200);
    assert_eq!(ogc.body, plain.body);
}

#[actix_web::test]
async fn a_new_layer_generation_is_never_served_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_points(dir.path(), "g.geojson", &[(10.0, 10.0, 1)]);
    let state = state_from_toml(&format!("[[layers]]\nid='g'\nfile='{path}'\n"));
    let first = get_with(&state, "/tiles/g/0/0/0", &[]).await;
    assert_eq!(decode(&first.body)["g"].len(), 1);
    let handle = state.catalog.get("g").unwrap();
    let layer = handle.snapshot();
    let mut features: Vec<_> = layer.features.iter().map(|(_, f)| f.clone()).collect();
    let mut moved = features[0].clone();
    moved.id = 2;
    moved.geometry = geo::Point::new(-20.0, -20.0).into();
    features.push(moved);
    handle.replace(layer.with_features(layer.fields.clone(), features));
    let second = get_with(&state, "/tiles/g/0/0/0", &[]).await;
    assert_eq!(second.header("x-tile-cache"), Some("miss"));
    assert_eq!(decode(&second.body)["g"].len(), 2);
    assert_ne!(first.header("etag"), second.header("etag"));
}

#[actix_web::test]
async fn metadata_documents() {
    let state = atlas();
    let tj = get_with(
        &state,
        "/tiles/incidents",
        &[("Host", "atlas.example:8080")],
    )
    .await
    .json();
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(
        tj["tiles"][0],
        "http://atlas.example:8080/tiles/incidents/{z}/{x}/{y}"
    );
    let vl = &tj["vector_layers"][0];
    assert_eq!(vl["id"], "incidents");
    assert_eq!(vl["fields"]["deaths"], "Number");
    assert_eq!(vl["fields"]["title"], "String");
    assert!(tj["bounds"][0].as_f64().unwrap() < 70.0 && tj["center"][2].as_u64().is_some());
    assert!(tj["attribution"].as_str().is_some());
    let composite = get("/tiles/countries,incidents").await.json();
    assert_eq!(composite["vector_layers"].as_array().unwrap().len(), 2);
    let catalog = get("/tiles").await.json();
    assert_eq!(
        catalog["tilesets"].as_array().unwrap().len(),
        state.catalog.layers.len()
    );
    // The catalogue is also an OGC API - Tiles tileset list (the landing page's
    // tilesets-vector link points to it): each entry links to its tileset document.
    for ts in catalog["tilesets"].as_array().unwrap() {
        assert_eq!(ts["dataType"], "vector");
        let id = ts["id"].as_str().unwrap();
        let self_link = ts["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "self")
            .unwrap();
        assert!(
            self_link["href"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/collections/{id}/tiles/WebMercatorQuad"))
        );
    }
    let landing = get("/").await.json();
    assert!(landing["links"].as_array().unwrap().iter().any(|l| {
        l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
            && l["href"].as_str().unwrap().ends_with("/tiles")
    }));
    let tms = get("/tileMatrixSets/WebMercatorQuad").await.json();
    assert_eq!(tms["tileMatrices"][3]["matrixWidth"], 8);
    let sets = get("/collections/incidents/tiles").await.json();
    assert_eq!(sets["tilesets"][0]["dataType"], "vector");
    let ts = get("/collections/incidents/tiles/WebMercatorQuad")
        .await
        .json();
    let links = ts["links"].as_array().unwrap();
    assert!(links.iter().any(|l| {
        l["rel"] == "item"
            && l["href"]
                .as_str()
                .unwrap()
                .ends_with("/{tileMatrix}/{tileRow}/{tileCol}")
    }));
}

#[actix_web::test]
async fn every_tile_route_is_in_the_openapi_document() {
    let api = get("/api").await.json();
    for route in khorasan_atlas::http::tiles::TILE_ROUTES {
        assert!(
            api["paths"][route]["get"].is_object(),
            "{route} missing from /api"
        );
    }
}

#[test]
fn concurrent_requests_share_one_prepared_layer() {
    let state = atlas();
    let layer = state.catalog.get("provinces").unwrap().snapshot();
    let tiler =
        khorasan_atlas::tiles::Tiler::new(khorasan_atlas::tiles::TileServerConfig::default());
    let prepared: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| tiler.prepared(&layer))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        prepared
            .iter()
            .all(|p| std::sync::Arc::ptr_eq(p, &prepared[0]))
    );
    assert_eq!(prepared[0].generation, layer.generation);
    assert!(std::sync::Arc::ptr_eq(
        &tiler.prepared(&layer),
        &prepared[0]
    ));
}

#[actix_web::test]
async fn health_reports_what_the_tile_cache_holds() {
    // A state of its own: the shared atlas's cache fills with other tests' tiles.
    let state = state_from_toml(
        "[[layers]]\nid = \"countries\"\nfile = \"geodata/countries_world.geojson\"\n",
    );
    let capacity = state.config.tiles.cache_mib << 20;
    let before = get_with(&state, "/health", &[]).await.json();
    assert_eq!(before["tile_cache"]["tiles"], 0);
    assert_eq!(before["tile_cache"]["capacity_bytes"], capacity);
    let first = get_with(&state, "/tiles/countries/1/1/0", &[]).await;
    assert_eq!(first.status, 200);
    let after = get_with(&state, "/health", &[]).await.json();
    assert_eq!(after["tile_cache"]["tiles"], 1);
    let weight = after["tile_cache"]["weight_bytes"].as_u64().unwrap();
    assert!(
        weight >= first.body.len() as u64 && weight <= capacity,
        "{weight} bytes for a tile of {}",
        first.body.len()
    );
}
