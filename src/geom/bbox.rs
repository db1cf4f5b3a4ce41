//! Bounding boxes in lon/lat degrees (CRS84).
//!
//! Owns: [`BBox`], its text form `west,south,east,north` with the range checks, and the split
//! of a box that crosses the antimeridian into envelopes that do not. It does not know about
//! layers, indexes or queries.

use crate::error::{Error, Result};

/// A bounding box in lon/lat degrees. `west > east` crosses the antimeridian.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    pub west: f64,
    pub south: f64,
    pub east: f64,
    pub north: f64,
}

impl BBox {
    /// The whole world.
    pub const WORLD: Self = Self {
        west: -180.0,
        south: -90.0,
        east: 180.0,
        north: 90.0,
    };

    /// Parses `west,south,east,north` (4 numbers; 6 with heights, which are ignored).
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |reason: &str| Error::bad_param("bbox", text, reason);
        let nums = text
            .split(',')
            .map(|s| s.trim().parse::<f64>())
            .collect::<std::result::Result<Vec<f64>, _>>()
            .map_err(|_| bad("expected comma-separated numbers"))?;
        let [west, south, east, north] = match nums[..] {
            [w, s, e, n] | [w, s, _, e, n, _] => [w, s, e, n],
            _ => return Err(bad(&format!("expected 4 numbers, got {}", nums.len()))),
        };
        if nums.iter().any(|v| !v.is_finite()) {
            return Err(bad("numbers must be finite"));
        }
        if ![west, east].iter().all(|x| (-180.0..=180.0).contains(x)) {
            return Err(bad("longitudes must be in [-180, 180]"));
        }
        if ![south, north].iter().all(|y| (-90.0..=90.0).contains(y)) {
            return Err(bad("latitudes must be in [-90, 90]"));
        }
        if south > north {
            return Err(bad("south is greater than north"));
        }
        Ok(Self {
            west,
            south,
            east,
            north,
        })
    }

    /// One or two `[w, s, e, n]` envelopes that do not cross the antimeridian.
    pub fn envelopes(&self) -> impl Iterator<Item = [f64; 4]> + use<> {
        let (first, second) = if self.west <= self.east {
            ([self.west, self.south, self.east, self.north], None)
        } else {
            (
                [self.west, self.south, 180.0, self.north],
                Some([-180.0, self.south, self.east, self.north]),
            )
        };
        std::iter::once(first).chain(second)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_accepts_antimeridian_and_rejects_nonsense() {
        let b = BBox::parse("170,-10,-170,10").unwrap();
        assert_eq!(b.envelopes().count(), 2);
        for bad in [
            "1,2,3",
            "1,2,3,4,5",
            "nan,0,1,1",
            "inf,0,1,1",
            "0,10,1,5",
            "0,0,1,95",
            "a,b,c,d",
            "",
        ] {
            let err = BBox::parse(bad).unwrap_err();
            assert_eq!(err.status(), 400, "{bad}");
            assert!(err.to_string().contains("bbox"), "{err}");
        }
    }

    #[test]
    fn envelopes_split_only_across_the_antimeridian() {
        let plain = BBox::parse("60,29,75,38").unwrap();
        assert_eq!(
            plain.envelopes().collect::<Vec<_>>(),
            [[60.0, 29.0, 75.0, 38.0]]
        );
        let crossing = BBox::parse("170,-10,-170,10").unwrap();
        assert_eq!(
            crossing.envelopes().collect::<Vec<_>>(),
            [[170.0, -10.0, 180.0, 10.0], [-180.0, -10.0, -170.0, 10.0]]
        );
    }
}
