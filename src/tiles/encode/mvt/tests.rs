use super::*;

#[test]
fn spec_example_geometry() {
    // The spec's polygon example: (3,6) (8,12) (20,34) closed.
    let mut out = Vec::new();
    let kind = encode_geometry(
        &TileGeometry::Polygons(vec![vec![vec![[3, 6], [8, 12], [20, 34]]]]),
        &mut out,
    );
    assert_eq!(kind, 3);
    assert_eq!(out, [9, 6, 12, 18, 10, 12, 24, 44, 15]);
    out.clear();
    encode_geometry(&TileGeometry::Points(vec![[25, 17]]), &mut out);
    assert_eq!(out, [9, 50, 34]);
}

#[test]
fn small_features_are_written_as_any_other() {
    let mut small = SmallFeature::new();
    let ids = [None, Some(0), Some(127), Some(128), Some(u64::MAX)];
    let ints = [0, 1, 127, 128, 16_383, 16_384, 1 << 21, u32::MAX];
    for id in ids {
        for n in [0, 1, 2, 31, 32, 33, 40, 64, 65] {
            let tags: Vec<u32> = (0..n).map(|i| ints[i % ints.len()]).collect();
            for g in [1, 3, 31, 64, 65] {
                let geom: Vec<u32> = (0..g).map(|i| ints[(i * 3 + n) % ints.len()]).collect();
                let mut expected = Vec::new();
                write_feature_fields(&mut expected, id, &tags, 1, &geom);
                match small.write(id, &tags, 1, &geom) {
                    Some(bytes) => assert_eq!(bytes, &expected[..], "{id:?} {n} {g}"),
                    None => assert!(n + g > SMALL_VALUES, "{n} + {g} values not small"),
                }
            }
        }
    }
}

#[test]
fn points_are_written_as_any_other() {
    let ids = [0, 127, 128, u64::MAX];
    let ints = [0, 1, 127, 128, 16_383, 16_384, 1 << 21, u32::MAX];
    let coords = [0, 1, -1, 63, -64, 64, 4095, 8191, -8192, i32::MAX, i32::MIN];
    for id in ids {
        for n in [0, 1, 2, 7, 40, 64, 65] {
            // Every key with every value, from a different pair for each `n`.
            let tags: Vec<u32> = (0..n)
                .flat_map(|i| {
                    let pair = (i + 3 * n) % (ints.len() * ints.len());
                    [ints[pair / ints.len()], ints[pair % ints.len()]]
                })
                .collect();
            for (i, &x) in coords.iter().enumerate() {
                let at = [x, coords[(i * 7 + n) % coords.len()]];
                let (mut general, mut point) =
                    (LayerEncoder::new("p", 4096), LayerEncoder::new("p", 4096));
                // A feature before, so that lengths are widened in the middle.
                general.add_with_tags(Some(9), &TileGeometry::Point([1, 2]), |_, list| {
                    list.extend_from_slice(&[0, 0]);
                });
                point.add_point(9, [1, 2], |_, sink| sink.push_tag(0, 0));
                general.add_with_tags(Some(id), &TileGeometry::Point(at), |_, list| {
                    list.extend_from_slice(&tags);
                });
                point.add_point(id, at, |_, sink| {
                    for pair in tags.chunks_exact(2) {
                        sink.push_tag(pair[0], pair[1]);
                    }
                });
                assert_eq!(point.features, general.features, "{id} {n} {at:?}");
                assert_eq!(point.len(), 2);
            }
        }
    }
}

#[test]
fn int_values_are_written_as_any_other() {
    for field in [5, 6, 16] {
        // Past the integers of one word too.
        let past_a_word = [1 << 28, u64::from(u32::MAX), u64::MAX];
        for n in crate::tiles::encode::wire::VARINT_EDGES
            .into_iter()
            .chain(past_a_word)
        {
            let (mut a, mut b) = (vec![7], vec![7]);
            write_int_value(&mut a, field, n);
            write_key(&mut b, 4, WIRE_LEN);
            write_varint(&mut b, 1 + varint_len(n) as u64);
            write_key(&mut b, field, WIRE_VARINT);
            write_varint(&mut b, n);
            assert_eq!(a, b, "{field} {n}");
        }
    }
}

#[test]
fn values_are_deduplicated() {
    let mut l = LayerEncoder::new("x", 4096);
    for i in 0..3 {
        l.add_feature(
            Some(i),
            [("a", TileValue::Int(7)), ("b", TileValue::Str("s"))],
            &TileGeometry::Points(vec![[1, 1]]),
        );
    }
    assert_eq!(l.len(), 3);
    assert_eq!(l.keys.len(), 2);
    assert_eq!(l.value_count, 2);
    assert!(!l.add_feature(None, [], &TileGeometry::Points(vec![])));
}

/// Reads a varint of `buf` at `*at`, moving past it.
fn read_varint(buf: &[u8], at: &mut usize) -> u64 {
    let mut v = 0;
    for shift in (0..64).step_by(7) {
        let b = buf[*at];
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            break;
        }
    }
    v
}

/// The field numbers of the message `buf`, in the order written, and the varint fields'
/// values by number.
fn fields_of(buf: &[u8]) -> (Vec<u32>, HashMap<u32, u64>) {
    let (mut numbers, mut varints, mut at) = (Vec::new(), HashMap::new(), 0);
    while at < buf.len() {
        let key = read_varint(buf, &mut at);
        numbers.push((key >> 3) as u32);
        match (key & 7) as u8 {
            WIRE_VARINT => {
                varints.insert((key >> 3) as u32, read_varint(buf, &mut at));
            }
            WIRE_LEN => at += read_varint(buf, &mut at) as usize,
            other => panic!("wire type {other}"),
        }
    }
    (numbers, varints)
}

#[test]
fn a_layer_is_a_tile_in_its_own_buffer() {
    // Layers whose lengths take one, two and three bytes, with short and long names.
    for name in ["p", &"n".repeat(130)] {
        for features in [1u64, 3, 200, 3000] {
            let layer = || {
                let mut l = LayerEncoder::new(name, 4096);
                for i in 0..features {
                    let at = [(i % 4096) as i32, (i / 4096) as i32];
                    l.add_point(i, at, |l, sink| {
                        let key = l.key("n");
                        let value = l.new_int_value(i);
                        sink.push_tag(key, value);
                    });
                }
                l
            };
            let (buf, start) = layer().into_layer();
            let tile = &buf[start..];
            // Appended after another layer, the same bytes.
            let mut two = vec![0x1a, 0];
            layer().finish(&mut two);
            assert_eq!(&two[2..], tile, "{features}");
            // One field 3 of `Tile` holding the rest.
            let (numbers, _) = fields_of(tile);
            assert_eq!(numbers, [3], "{features}");
            let mut at = 1;
            let len = read_varint(tile, &mut at) as usize;
            assert_eq!(at + len, tile.len());
            // The layer's fields in the order of their numbers.
            let (numbers, varints) = fields_of(&tile[at..]);
            assert!(numbers.is_sorted(), "{numbers:?}");
            assert_eq!(numbers.iter().filter(|&&n| n == 2).count() as u64, features);
            assert_eq!((varints[&5], varints[&15]), (4096, 2));
            // An independent decoder reads it.
            let reader = mvt_reader::Reader::new(tile.to_vec()).expect("a tile");
            let names = reader.get_layer_names().expect("names");
            assert_eq!(names, [name.to_owned()]);
            let read = reader.get_features(0).expect("features");
            assert_eq!(read.len() as u64, features);
        }
    }
}

#[test]
fn keys_are_deduplicated_before_and_after_they_are_hashed() {
    let mut l = LayerEncoder::new("x", 4096);
    let names: Vec<String> = (0..3 * LISTED_KEYS).map(|i| format!("k{i}")).collect();
    // Each key, new and then again, while the layer's keys grow past those looked for one
    // by one.
    for (i, name) in (0u32..).zip(&names) {
        assert_eq!(l.key(name), i, "{name} new");
        assert_eq!(l.key(name), i, "{name} again");
        assert_eq!(l.key("k0"), 0);
    }
    for (i, name) in (0u32..).zip(&names) {
        assert_eq!(l.key(name), i);
    }
    assert_eq!(l.keys, names);
}
