use geo::Point;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::catalog::{Prop, Time};

fn feature(id: u64, x: f64) -> Feature {
    Feature {
        id,
        geometry: Point::new(x, 0.0).into(),
        source_geometry: None,
        props: vec![Prop::Int(id as i64)].into_boxed_slice(),
        time: Time::NONE,
    }
}

/// Every slot as `(id, x)`, `None` for an empty one.
fn contents(f: &Features) -> Vec<Option<(u64, f64)>> {
    f.by_slot()
        .map(|f| {
            f.map(|f| match f.geometry.point() {
                Some(p) => (f.id, p.x()),
                None => (f.id, f64::NAN),
            })
        })
        .collect()
}

#[test]
fn a_snapshot_is_unchanged_by_the_writes_of_a_later_one() {
    let n = 3 * CHUNK + 17;
    let old = Features::from_vec((1..=n as u64).map(|id| feature(id, 0.0)).collect());
    let before = contents(&old);
    let mut new = old.clone();
    assert!(new.shares_all(&old));
    assert!(new.replace(5, feature(6, 1.0)).is_ok());
    assert!(new.remove(CHUNK + 3).is_some());
    let pos = new.push(feature(n as u64 + 1, 2.0));
    if let Some(f) = new.get_mut(2 * CHUNK) {
        f.props = vec![Prop::Null].into_boxed_slice();
    }
    assert_eq!(contents(&old), before);
    assert_eq!(old.live(), n);
    assert_eq!(pos, n);
    assert_eq!((new.slots(), new.live()), (n + 1, n));
    // Only the chunks written were copied.
    let copied = (0..new.chunks.len())
        .filter(|&c| {
            old.chunks
                .get(c)
                .is_none_or(|o| !Arc::ptr_eq(o, &new.chunks[c]))
        })
        .count();
    assert_eq!(copied, 4, "chunks 0, 1, 2 and the last one");
}

#[test]
fn slots_follow_a_vector_of_options_through_random_writes() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut model: Vec<Option<(u64, f64)>> = Vec::new();
    let mut features = Features::default();
    let mut snapshots = Vec::new();
    for step in 0..4000 {
        match rng.gen_range(0..10) {
            0..=4 => {
                let id = model.len() as u64 + 1;
                let x = rng.r#gen::<f64>();
                assert_eq!(features.push(feature(id, x)), model.len());
                model.push(Some((id, x)));
            }
            5..=7 if !model.is_empty() => {
                let pos = rng.gen_range(0..model.len());
                let x = rng.r#gen::<f64>();
                let id = pos as u64 + 1;
                let done = features.replace(pos, feature(id, x)).is_ok();
                assert_eq!(done, model[pos].is_some());
                if done {
                    model[pos] = Some((id, x));
                }
            }
            _ if !model.is_empty() => {
                let pos = rng.gen_range(0..model.len());
                assert_eq!(features.remove(pos).is_some(), model[pos].is_some());
                model[pos] = None;
            }
            _ => {}
        }
        if step % 97 == 0 {
            snapshots.push((features.clone(), model.clone()));
        }
    }
    assert_eq!(contents(&features), model);
    assert_eq!(features.live(), model.iter().flatten().count());
    assert_eq!(
        features.iter().map(|(p, _)| p).collect::<Vec<_>>(),
        (0..model.len())
            .filter(|&p| model[p].is_some())
            .collect::<Vec<_>>()
    );
    for (offset, limit) in [(0, 10), (5, 3), (model.len(), 4), (17, 1000)] {
        let want: Vec<usize> = features
            .iter()
            .map(|(p, _)| p)
            .skip(offset)
            .take(limit)
            .collect();
        assert_eq!(features.page(offset, limit).collect::<Vec<_>>(), want);
    }
    for (snapshot, model) in snapshots {
        assert_eq!(contents(&snapshot), model, "an older snapshot changed");
    }
}

#[test]
fn ids_stay_ordinal_through_deletes_and_appends_of_the_next_id() {
    let mut features = Features::from_vec((1..=10).map(|id| feature(id, 0.0)).collect());
    let mut ids = IdLookup::of(&features);
    assert!(matches!(ids, IdLookup::Ordinal));
    features.remove(3);
    let pos = features.push(feature(11, 0.0));
    ids.insert(11, pos, &features);
    assert!(matches!(ids, IdLookup::Ordinal));
    assert_eq!(ids.slot(11), Some(10));
    // Id 4 again, now at the end: no longer ordinal.
    let pos = features.push(feature(4, 0.0));
    ids.insert(4, pos, &features);
    assert!(matches!(ids, IdLookup::Map(_)));
    for (pos, f) in features.iter() {
        assert_eq!(ids.slot(f.id), Some(pos));
    }
}

#[test]
fn a_map_of_ids_is_shared_until_written() {
    let features: Features = (0..5000_u64).map(|i| feature(i * 7 + 3, 0.0)).collect();
    let IdLookup::Map(old) = IdLookup::of(&features) else {
        panic!("ids are not ordinal");
    };
    assert!(old.shards.len() > 1);
    let mut new = old.clone();
    new.insert(1, 5000);
    new.insert(10, 17);
    assert_eq!(
        (old.get(1), new.get(1), new.get(10)),
        (None, Some(5000), Some(17))
    );
    for (pos, f) in features.iter() {
        assert_eq!(old.get(f.id), Some(pos));
    }
    let shared = (0..old.shards.len())
        .filter(|&s| Arc::ptr_eq(&old.shards[s], &new.shards[s]))
        .count();
    assert!(shared >= old.shards.len() - 2);
}

#[test]
fn a_list_gathered_one_by_one_holds_what_a_vector_would() {
    for n in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17] {
        let mut list = FeatureList::default();
        list.reserve(n);
        for id in 1..=n as u64 {
            list.push(feature(id, id as f64));
        }
        assert_eq!(list.len(), n);
        assert_eq!(list.is_empty(), n == 0);
        let ids: Vec<u64> = list.iter().map(|f| f.id).collect();
        assert_eq!(ids, (1..=n as u64).collect::<Vec<_>>());
        let features = list.into_features(|f| {
            f.props = vec![Prop::Int(-(f.id as i64))].into_boxed_slice();
        });
        let expected = Features::from_vec(
            (1..=n as u64)
                .map(|id| Feature {
                    props: vec![Prop::Int(-(id as i64))].into_boxed_slice(),
                    ..feature(id, id as f64)
                })
                .collect(),
        );
        assert_eq!((features.slots(), features.live()), (n, n));
        assert_eq!(contents(&features), contents(&expected));
        let props = |f: &Features| f.iter().map(|(_, f)| f.props.clone()).collect::<Vec<_>>();
        assert_eq!(props(&features), props(&expected));
        // Every chunk but the last is full: positions map to chunks as in any snapshot.
        for pos in (0..n).step_by(CHUNK / 2 + 1).chain(n.checked_sub(1)) {
            assert_eq!(features.get(pos).map(|f| f.id), Some(pos as u64 + 1));
        }
    }
}
