//! Deterministic random points for benchmarks, shared by `examples/gen_points.rs` and
//! `benches/features.rs` (included with `#[path]`; not a bench target of its own).
//!
//! The distribution: 60% of the points are uniform over the sphere (so polar and
//! antimeridian regions are covered), 40% fall in [`CLUSTERS`] Gaussian clusters of
//! 0.2-2.5 degrees whose centres are fixed by [`CLUSTER_SEED`] (the same for every `n`).
//! Bbox and radius queries drawn from the same distribution ([`query_points`]) therefore
//! see realistic hit counts: a handful of features in empty regions, hundreds to thousands
//! in the dense ones.
//!
//! Each feature has an integer `id` (1-based, so ids are ordinal) and six properties:
//! `name` (string), `category` (one of 8 strings), `value` (integer), `score` (float),
//! `date` (`YYYY-MM-DD` between 2015 and 2026) and `flag` (boolean). About 225 bytes a
//! feature: 1M points are about 225 MB of GeoJSON.

use std::io::{self, Write};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Seed of the cluster centres: fixed, so data sets of any size share their clusters.
pub const CLUSTER_SEED: u64 = 0x6b68_6f72_6173_616e;
/// Seed of the points themselves.
pub const POINT_SEED: u64 = 42;
/// Number of clusters.
pub const CLUSTERS: usize = 40;
/// Share of points drawn from the clusters.
pub const CLUSTERED: f64 = 0.4;

const CATEGORIES: [&str; 8] = [
    "market",
    "school",
    "clinic",
    "mosque",
    "checkpoint",
    "bridge",
    "office",
    "station",
];
const PREFIXES: [&str; 10] = [
    "Upper", "Lower", "Old", "New", "North", "South", "East", "West", "Greater", "Little",
];
const PLACES: [&str; 12] = [
    "Kala", "Qalat", "Deh", "Bagh", "Shahr", "Kot", "Abad", "Pul", "Darra", "Sar", "Ghar",
    "Chashma",
];

/// A Gaussian cluster: centre (lon, lat), spread in degrees of latitude, relative weight.
#[derive(Debug, Clone, Copy)]
pub struct Cluster {
    pub lon: f64,
    pub lat: f64,
    pub sigma: f64,
    pub weight: f64,
}

/// The sampler: clusters and their cumulative weights.
#[derive(Debug, Clone)]
pub struct Sampler {
    pub clusters: Vec<Cluster>,
    cumulative: Vec<f64>,
}

impl Default for Sampler {
    fn default() -> Self {
        Self::new()
    }
}

impl Sampler {
    /// The fixed clusters.
    pub fn new() -> Self {
        let mut rng = StdRng::seed_from_u64(CLUSTER_SEED);
        let clusters: Vec<Cluster> = (0..CLUSTERS)
            .map(|_| Cluster {
                lon: rng.gen_range(-180.0..180.0),
                lat: rng.gen_range(-55.0..70.0),
                sigma: rng.gen_range(0.2_f64..2.5),
                weight: rng.gen_range(1.0..10.0),
            })
            .collect();
        let mut total = 0.0;
        let cumulative = clusters
            .iter()
            .map(|c| {
                total += c.weight;
                total
            })
            .collect();
        Self {
            clusters,
            cumulative,
        }
    }

    /// One point `(lon, lat)` in degrees, lon in [-180, 180), lat in [-90, 90].
    pub fn point(&self, rng: &mut StdRng) -> (f64, f64) {
        if rng.gen_bool(CLUSTERED) {
            let total = self.cumulative.last().copied().unwrap_or(1.0);
            let pick = rng.gen_range(0.0..total);
            let i = self
                .cumulative
                .partition_point(|&w| w <= pick)
                .min(self.clusters.len() - 1);
            let c = self.clusters[i];
            let (gx, gy) = gaussian_pair(rng);
            let lat = (c.lat + gy * c.sigma).clamp(-89.999, 89.999);
            let lon = c.lon + gx * c.sigma / lat.to_radians().cos().max(0.05);
            (wrap_lon(lon), lat)
        } else {
            // Uniform on the sphere: lat = asin(u), u uniform in [-1, 1].
            let lon = rng.gen_range(-180.0..180.0);
            let lat = rng.gen_range(-1.0_f64..=1.0).asin().to_degrees();
            (lon, lat)
        }
    }
}

/// Two independent standard normal numbers (Box-Muller).
fn gaussian_pair(rng: &mut StdRng) -> (f64, f64) {
    let u1: f64 = 1.0 - rng.r#gen::<f64>(); // (0, 1]
    let u2: f64 = rng.r#gen::<f64>();
    let r = (-2.0 * u1.ln()).sqrt();
    let t = std::f64::consts::TAU * u2;
    (r * t.cos(), r * t.sin())
}

fn wrap_lon(lon: f64) -> f64 {
    let w = (lon + 180.0).rem_euclid(360.0) - 180.0;
    if w >= 180.0 { -180.0 } else { w }
}

/// Writes `n` points as a GeoJSON FeatureCollection, one feature a line.
pub fn write_collection<W: Write>(n: usize, out: &mut W) -> io::Result<()> {
    let sampler = Sampler::new();
    let mut rng = StdRng::seed_from_u64(POINT_SEED);
    out.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")?;
    for i in 0..n {
        let (lon, lat) = sampler.point(&mut rng);
        let prefix = PREFIXES[rng.gen_range(0..PREFIXES.len())];
        let place = PLACES[rng.gen_range(0..PLACES.len())];
        let category = CATEGORIES[rng.gen_range(0..CATEGORIES.len())];
        let value: i64 = rng.gen_range(0..100_000);
        let score: f64 = rng.gen_range(0.0..100.0);
        let year: u32 = rng.gen_range(2015..=2026);
        let month: u32 = rng.gen_range(1..=12);
        let day: u32 = rng.gen_range(1..=days_in_month(year, month));
        let flag: bool = rng.gen_bool(0.3);
        let sep = if i + 1 < n { "," } else { "" };
        writeln!(
            out,
            "{{\"type\":\"Feature\",\"id\":{id},\"geometry\":{{\"type\":\"Point\",\"coordinates\":[{lon:.6},{lat:.6}]}},\
             \"properties\":{{\"name\":\"{prefix} {place} {id}\",\"category\":\"{category}\",\"value\":{value},\
             \"score\":{score:.4},\"date\":\"{year:04}-{month:02}-{day:02}\",\"flag\":{flag}}}}}{sep}",
            id = i + 1,
        )?;
    }
    out.write_all(b"]}\n")
}

/// The collection in memory.
pub fn collection_bytes(n: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(n * 230 + 64);
    // Writing to a Vec cannot fail.
    let _ = write_collection(n, &mut buf);
    buf
}

/// `m` query centres from the same distribution as the data (other seed): as many queries
/// land in dense regions as features do.
pub fn query_points(m: usize, seed: u64) -> Vec<(f64, f64)> {
    let sampler = Sampler::new();
    let mut rng = StdRng::seed_from_u64(seed);
    (0..m).map(|_| sampler.point(&mut rng)).collect()
}

/// `m` bboxes `[w, s, e, n]` centred on query points, 0.2-2 degrees a side (wider in
/// longitude away from the equator), crossing the antimeridian where they must.
pub fn query_boxes(m: usize, seed: u64) -> Vec<[f64; 4]> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5bd1_e995);
    query_points(m, seed)
        .into_iter()
        .map(|(lon, lat)| {
            let h = rng.gen_range(0.1..1.0);
            let w = (h / lat.to_radians().cos().max(0.1)).min(20.0);
            let s = (lat - h).max(-90.0);
            let n = (lat + h).min(90.0);
            [wrap_lon(lon - w), s, wrap_lon(lon + w), n]
        })
        .collect()
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}
