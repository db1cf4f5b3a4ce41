use super::*;

fn shape(rings: &[&[[i32; 2]]]) -> Vec<Vec<IntPoint>> {
    rings
        .iter()
        .map(|r| r.iter().map(|&[x, y]| IntPoint::new(x, y)).collect())
        .collect()
}

fn valid(polygons: &[Vec<Vec<[i32; 2]>>]) -> bool {
    use geo::{LineString, MultiPolygon, Polygon, Validation};
    let ring = |r: &Vec<[i32; 2]>| {
        LineString::from(
            r.iter()
                .map(|&[x, y]| (f64::from(x), f64::from(y)))
                .collect::<Vec<_>>(),
        )
    };
    MultiPolygon(
        polygons
            .iter()
            .map(|p| Polygon::new(ring(&p[0]), p[1..].iter().map(ring).collect()))
            .collect(),
    )
    .is_valid()
}

#[test]
fn a_pinched_hole_becomes_two_holes_touching_at_the_pinch() {
    let square: &[[i32; 2]] = &[[0, 0], [100, 0], [100, 100], [0, 100]];
    let pinched: &[[i32; 2]] = &[[50, 50], [60, 40], [70, 50], [50, 50], [40, 60], [30, 50]];
    let out = oriented(vec![shape(&[square, pinched])], 1.0);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].len(), 3, "{out:?}");
    assert!(
        out[0][1..]
            .iter()
            .all(|h| h.len() == 3 && ring_area(h) < 0.0)
    );
    assert!(valid(&out), "{out:?}");
}

#[test]
fn a_pinched_exterior_becomes_two_polygons_each_with_its_holes() {
    let bow: &[[i32; 2]] = &[
        [0, 0],
        [50, 0],
        [50, 50],
        [100, 50],
        [100, 100],
        [50, 100],
        [50, 50],
        [0, 50],
    ];
    let hole: &[[i32; 2]] = &[[70, 70], [80, 70], [80, 80], [70, 80]];
    let out = oriented(vec![shape(&[bow, hole])], 1.0);
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(out.iter().all(|p| ring_area(&p[0]) > 0.0));
    let with_hole: Vec<_> = out.iter().filter(|p| p.len() == 2).collect();
    assert_eq!(with_hole.len(), 1);
    assert!(with_hole[0][0].contains(&[100, 100]));
    assert!(valid(&out), "{out:?}");
}

#[test]
fn a_spike_is_dropped() {
    let spiked: &[[i32; 2]] = &[[0, 0], [10, 0], [20, 0], [10, 0], [10, 10], [0, 10]];
    assert_eq!(split_pinches(spiked.to_vec()).len(), 1);
}

const CLIP: ClipBox = ClipBox { lo: -64, hi: 4160 };

#[test]
fn lines_are_cut_at_the_border() {
    let mut out = Vec::new();
    clip_line(
        &[[-1000.0, 100.0], [100.0, 100.0], [100.0, 9000.0]],
        CLIP,
        &mut out,
    );
    assert_eq!(out, vec![vec![[-64, 100], [100, 100], [100, 4160]]]);
    out.clear();
    // Leaves and comes back: two pieces.
    clip_line(
        &[[0.0, 0.0], [0.0, -500.0], [10.0, -500.0], [10.0, 0.0]],
        CLIP,
        &mut out,
    );
    assert_eq!(out, vec![vec![[0, 0], [0, -64]], vec![[10, -64], [10, 0]]]);
    out.clear();
    clip_line(&[[-500.0, -500.0], [-400.0, -400.0]], CLIP, &mut out);
    assert!(out.is_empty());
}

#[test]
fn a_u_shape_crossing_the_border_twice_becomes_two_valid_polygons() {
    // A U opening downwards whose legs cross the bottom border: Sutherland-Hodgman
    // alone would join them along the border with a zero-width corridor.
    let u = vec![
        [100.0, 3000.0],
        [1000.0, 3000.0],
        [1000.0, 6000.0],
        [800.0, 6000.0],
        [800.0, 3200.0],
        [300.0, 3200.0],
        [300.0, 6000.0],
        [100.0, 6000.0],
    ];
    let polys = clip_polygon(&[u], CLIP, 1.0);
    // One polygon (the legs are joined by the top bar), no corridor.
    assert_eq!(polys.len(), 1);
    let ring = &polys[0][0];
    assert!(ring_area(ring) > 0.0);
    let border: Vec<_> = ring.iter().filter(|p| p[1] == 4160).collect();
    assert_eq!(border.len(), 4, "{ring:?}");
    let geo_ring: geo::LineString<f64> = ring
        .iter()
        .map(|p| (f64::from(p[0]), f64::from(p[1])))
        .collect();
    use geo::Validation;
    assert!(geo::Polygon::new(geo_ring, vec![]).is_valid());
}

#[test]
fn holes_are_negative_and_tiny_rings_are_dropped() {
    let outer = vec![[0.0, 0.0], [0.0, 100.0], [100.0, 100.0], [100.0, 0.0]];
    let hole = vec![[10.0, 10.0], [20.0, 10.0], [20.0, 20.0], [10.0, 20.0]];
    let polys = clip_polygon(&[outer.clone(), hole], CLIP, 1.0);
    assert_eq!(polys.len(), 1);
    assert_eq!(polys[0].len(), 2);
    assert!(ring_area(&polys[0][0]) > 0.0);
    assert!(ring_area(&polys[0][1]) < 0.0);
    assert!(clip_polygon(&[outer], CLIP, 20_000.0).is_empty());
}

#[test]
fn a_hole_outside_its_only_exterior_is_dropped() {
    // Snapping can leave a hole that touches the exterior at one corner but lies outside
    // it; kept, it would make the polygon invalid.
    let square: &[[i32; 2]] = &[[0, 0], [0, 4096], [4096, 4096], [4096, 0]];
    let outside: &[[i32; 2]] = &[[4096, 4096], [4351, 3878], [4351, 4096]];
    let inside: &[[i32; 2]] = &[[10, 10], [20, 10], [20, 20]];
    let out = oriented(vec![shape(&[square, outside, inside])], 1.0);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].len(), 2, "{out:?}");
    assert!(out[0][1].contains(&[20, 20]));
    assert!(valid(&out));
}

#[test]
fn a_hole_whose_vertices_all_touch_the_exterior_is_placed_by_its_edges() {
    // A diamond hole with every vertex on the square's edges: only the midpoints of its
    // edges say on which side it lies.
    let square: &[[i32; 2]] = &[[0, 0], [0, 100], [100, 100], [100, 0]];
    let diamond: &[[i32; 2]] = &[[50, 0], [100, 50], [50, 100], [0, 50]];
    assert!(holds(square, diamond));
    let beside: &[[i32; 2]] = &[[100, 0], [100, 100], [200, 50]];
    assert!(!holds(square, beside));
}

#[test]
fn an_exterior_touching_itself_from_inside_becomes_a_polygon_with_a_hole() {
    // One exterior ring that runs around a square and, from the corner (0, 0), around a
    // small triangle inside it the other way: the triangle is a hole, not a second
    // polygon over the first.
    let ring: &[[i32; 2]] = &[
        [0, 0],
        [0, 100],
        [100, 100],
        [100, 0],
        [0, 0],
        [40, 10],
        [40, 40],
        [10, 40],
    ];
    let out = oriented(vec![shape(&[ring])], 1.0);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].len(), 2, "{out:?}");
    assert!(ring_area(&out[0][0]) > 0.0 && ring_area(&out[0][1]) < 0.0);
    assert!(valid(&out));
}

#[test]
fn a_hole_given_with_another_shape_goes_to_the_exterior_holding_it() {
    let big: &[[i32; 2]] = &[[0, 0], [0, 100], [100, 100], [100, 0]];
    let small: &[[i32; 2]] = &[[200, 0], [200, 10], [210, 10], [210, 0]];
    let hole: &[[i32; 2]] = &[[10, 10], [20, 10], [20, 20]];
    let out = oriented(vec![shape(&[big]), shape(&[small, hole])], 1.0);
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(out[0].len(), 2, "{out:?}");
    assert_eq!(out[1].len(), 1, "{out:?}");
    assert!(valid(&out));
}
