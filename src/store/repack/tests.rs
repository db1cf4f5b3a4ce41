use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use geo::{Geometry, Point};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Map;

use super::*;
use crate::catalog::{Feature, LayerSettings, Prop, Time};
use crate::store::merge::LayerEdit;

fn point(rng: &mut StdRng) -> Geometry<f64> {
    Geometry::Point(Point::new(
        rng.gen_range(60.0..75.0),
        rng.gen_range(24.0..38.0),
    ))
}

fn layer(rng: &mut StdRng, n: u64) -> Layer {
    let features = (1..=n)
        .map(|id| Feature {
            id,
            geometry: point(rng).into(),
            source_geometry: None,
            props: Vec::<Prop>::new().into_boxed_slice(),
            time: Time::NONE,
        })
        .collect();
    let settings = LayerSettings {
        id: "pts".to_owned(),
        ..LayerSettings::default()
    };
    Layer::build(Arc::new(settings), Vec::new(), features, Default::default())
}

/// Positions in a box, from the index and by brute force over the features.
fn in_box(layer: &Layer, [w, s, e, n]: [f64; 4]) -> (BTreeSet<usize>, BTreeSet<usize>) {
    let indexed = layer.index.in_envelope(w, s, e, n).collect();
    let brute = layer
        .features
        .iter()
        .filter(|(_, f)| match f.geometry.point() {
            Some(p) => p.x() >= w && p.x() <= e && p.y() >= s && p.y() <= n,
            None => false,
        })
        .map(|(pos, _)| pos)
        .collect();
    (indexed, brute)
}

#[test]
fn an_adopted_repack_knows_every_write_made_while_it_ran() {
    let mut rng = StdRng::seed_from_u64(11);
    let mut current = Arc::new(layer(&mut rng, 3000));
    let mut repacks = Repacks::new(|_| 0);
    let mut adopted = 0;
    for batch in 0..40 {
        let mut edit = LayerEdit::new(&current, 0);
        for _ in 0..rng.gen_range(1..20) {
            let id = rng.gen_range(1..=current.features.slots() as u64 + 5);
            if rng.gen_bool(0.2) {
                edit.delete(id);
            } else {
                edit.put(id, point(&mut rng), None, &Map::new()).unwrap();
            }
        }
        let mut next = edit.finish(&current);
        let was_running = repacks.running("pts");
        repacks.adopt("pts", &mut next);
        if was_running && !repacks.running("pts") {
            adopted += 1;
        }
        let next = Arc::new(next);
        repacks.swapped("pts", &next);
        current = next;
        if batch % 3 == 0 {
            // Let the thread finish, so that the next batch adopts it.
            let started = Instant::now();
            while repacks
                .pending
                .get("pts")
                .is_some_and(|r| !r.thread.is_finished())
                && started.elapsed() < Duration::from_secs(30)
            {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        for bbox in [[-180.0, -90.0, 180.0, 90.0], [62.0, 26.0, 66.5, 31.0]] {
            let (indexed, brute) = in_box(&current, bbox);
            assert_eq!(indexed, brute, "batch {batch}, box {bbox:?}");
        }
    }
    assert!(adopted > 5, "{adopted} re-packs adopted");
}

#[test]
fn a_repack_of_another_layout_is_dropped() {
    let mut rng = StdRng::seed_from_u64(12);
    let first = Arc::new(layer(&mut rng, 100));
    let mut repacks = Repacks::new(|_| 0);
    repacks.swapped("pts", &first);
    assert!(repacks.running("pts"));
    let mut reloaded = layer(&mut rng, 50);
    repacks.adopt("pts", &mut reloaded);
    assert!(!repacks.running("pts"));
    let (indexed, brute) = in_box(&reloaded, [-180.0, -90.0, 180.0, 90.0]);
    assert_eq!(indexed, brute);
}

#[test]
fn a_finished_repack_is_adopted_without_a_write() {
    let mut rng = StdRng::seed_from_u64(13);
    let first = Arc::new(layer(&mut rng, 2000));
    let mut repacks = Repacks::new(|_| 1);
    let mut edit = LayerEdit::new(&first, 0);
    for id in 1..=300 {
        edit.put(id, point(&mut rng), None, &Map::new()).unwrap();
    }
    let current = Arc::new(edit.finish(&first));
    assert_eq!(current.index.edits(), 300);
    repacks.swapped("pts", &current);
    assert!(repacks.any_running());
    let started = Instant::now();
    while repacks.finished().is_empty() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(repacks.finished(), vec!["pts".to_owned()]);
    let adopted = repacks.adopt_idle("pts", &current).expect("adopted");
    assert!(!repacks.any_running());
    assert_eq!(adopted.generation, current.generation, "the same features");
    assert_eq!(
        adopted.index.edits(),
        0,
        "the re-pack was built from this snapshot"
    );
    for bbox in [[-180.0, -90.0, 180.0, 90.0], [62.0, 26.0, 66.5, 31.0]] {
        let (indexed, brute) = in_box(&adopted, bbox);
        assert_eq!(indexed, brute, "box {bbox:?}");
    }
    assert!(
        repacks.adopt_idle("pts", &adopted).is_none(),
        "nothing left to adopt"
    );
}
