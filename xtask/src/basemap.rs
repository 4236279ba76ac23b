//! `cargo xtask basemap`: the map's basemap, `assets/world-110m.svg`, from Natural Earth's land
//! polygons as the world-atlas npm package ships them (TopoJSON).
//!
//! Rules kept here:
//! - one SVG path, equirectangular, x = lon + 180, y = 90 - lat, in tenths of a degree;
//! - each ring's first point absolute and every next one relative to the one before (the same
//!   points as absolute tenths, in 9 KB brotli rather than 16 KB);
//! - a ring across the antimeridian is drawn whole, and again from the other edge.

use crate::Result;
use std::path::Path;

/// Converts Natural Earth land polygons (TopoJSON, as the world-atlas npm package ships them)
/// into the map's basemap: one SVG path in an equirectangular projection, x = lon + 180,
/// y = 90 - lat. Run once; the output is committed in assets/.
pub fn basemap(input: &Path, output: &Path) -> Result {
    let text = std::fs::read_to_string(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let topo: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", input.display()))?;
    let num = |v: &serde_json::Value| v.as_f64().ok_or("a number was expected");
    let scale = (
        num(&topo["transform"]["scale"][0])?,
        num(&topo["transform"]["scale"][1])?,
    );
    let shift = (
        num(&topo["transform"]["translate"][0])?,
        num(&topo["transform"]["translate"][1])?,
    );
    // Decode the delta-encoded, quantized arcs into (lon, lat) points.
    let arcs: Vec<Vec<(f64, f64)>> = topo["arcs"]
        .as_array()
        .ok_or("no arcs")?
        .iter()
        .map(|arc| {
            let (mut x, mut y) = (0.0, 0.0);
            arc.as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    x += p[0].as_f64().unwrap_or(0.0);
                    y += p[1].as_f64().unwrap_or(0.0);
                    (x * scale.0 + shift.0, y * scale.1 + shift.1)
                })
                .collect()
        })
        .collect();
    let mut d = String::new();
    let geometries = topo["objects"]["land"]["geometries"]
        .as_array()
        .ok_or("no land object")?;
    for g in geometries {
        let polygons: Vec<&serde_json::Value> = match g["type"].as_str() {
            Some("Polygon") => vec![&g["arcs"]],
            Some("MultiPolygon") => g["arcs"].as_array().into_iter().flatten().collect(),
            _ => vec![],
        };
        for rings in polygons {
            for ring in rings.as_array().into_iter().flatten() {
                let mut points: Vec<(f64, f64)> = Vec::new();
                for idx in ring
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i.as_i64())
                {
                    let (arc, reversed) = if idx < 0 {
                        (!idx as usize, true)
                    } else {
                        (idx as usize, false)
                    };
                    let mut pts = arcs.get(arc).ok_or("arc index out of range")?.clone();
                    if reversed {
                        pts.reverse();
                    }
                    let skip = usize::from(!points.is_empty());
                    points.extend(pts.into_iter().skip(skip));
                }
                // Rings that cross the antimeridian jump by ~360° of longitude: unwrap them so
                // they stay whole, then draw the part past an edge again from the other edge.
                let mut unwrapped: Vec<(f64, f64)> = Vec::with_capacity(points.len());
                let mut offset = 0.0;
                for (i, &(lon, lat)) in points.iter().enumerate() {
                    if i > 0 {
                        let prev = points[i - 1].0;
                        if lon - prev > 180.0 {
                            offset -= 360.0;
                        } else if prev - lon > 180.0 {
                            offset += 360.0;
                        }
                    }
                    unwrapped.push((lon + offset + 180.0, 90.0 - lat));
                }
                let mut shifts = vec![0.0];
                if unwrapped.iter().any(|p| p.0 > 360.0) {
                    shifts.push(-360.0);
                }
                if unwrapped.iter().any(|p| p.0 < 0.0) {
                    shifts.push(360.0);
                }
                // In tenths of a degree, the first point absolute and each next one relative to
                // the one before: the same points, in less than half the bytes compressed.
                for shift in shifts {
                    let mut prev = (0, 0);
                    for (i, (x, y)) in unwrapped.iter().enumerate() {
                        let p = (
                            ((x + shift) * 10.0).round() as i64,
                            (y * 10.0).round() as i64,
                        );
                        if i == 0 {
                            d.push_str(&format!("M{} {}l", tenths(p.0), tenths(p.1)));
                        } else {
                            if i > 1 {
                                d.push(' ');
                            }
                            d.push_str(&format!(
                                "{} {}",
                                tenths(p.0 - prev.0),
                                tenths(p.1 - prev.1)
                            ));
                        }
                        prev = p;
                    }
                    d.push('z');
                }
            }
        }
    }
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 360 180\">\
         <!-- Made with Natural Earth (public domain), land 1:110m, via the world-atlas package. -->\
         <path fill=\"#243244\" stroke=\"#3b4d63\" stroke-width=\"0.3\" d=\"{d}\"/></svg>\n"
    );
    std::fs::write(output, svg).map_err(|e| format!("{}: {e}", output.display()))?;
    eprintln!(
        "xtask: wrote {} ({} bytes)",
        output.display(),
        std::fs::metadata(output).map(|m| m.len()).unwrap_or(0)
    );
    Ok(())
}

/// A number of tenths as the shortest SVG number: 12.3, -.3, 5, 0.
fn tenths(t: i64) -> String {
    let sign = if t < 0 { "-" } else { "" };
    let (whole, frac) = (t.abs() / 10, t.abs() % 10);
    match (whole, frac) {
        (w, 0) => format!("{sign}{w}"),
        (0, f) => format!("{sign}.{f}"),
        (w, f) => format!("{sign}{w}.{f}"),
    }
}

#[cfg(test)]
mod tests {
    use super::tenths;

    #[test]
    fn tenths_are_written_as_the_shortest_svg_numbers() {
        let got: Vec<String> = [123, -3, 50, 0, -10, 7, -1234].map(tenths).to_vec();
        assert_eq!(got, ["12.3", "-.3", "5", "0", "-1", ".7", "-123.4"]);
    }
}
