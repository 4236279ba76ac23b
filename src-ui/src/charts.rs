//! Line charts drawn with plotters into an SVG string, placed in the page as markup.

use plotters::prelude::*;

const BG: RGBColor = RGBColor(0x14, 0x1b, 0x24);
const AXIS: RGBColor = RGBColor(0x9f, 0xb0, 0xc2);
pub const GREEN: RGBColor = RGBColor(0x39, 0xd9, 0x8a);
pub const RED: RGBColor = RGBColor(0xff, 0x5c, 0x5c);
pub const AMBER: RGBColor = RGBColor(0xf5, 0xb9, 0x42);

/// The window a chart of `points` shows: from its oldest point (at least 5 minutes back) up to
/// `max_min` minutes, so a fresh console does not squeeze its first minutes against "now".
pub fn span_for(points: &[(f64, f64)], max_min: f64) -> f64 {
    let oldest = points.iter().map(|p| -p.0).fold(0.0, f64::max);
    (oldest.ceil()).clamp(5.0, max_min)
}

/// What the horizontal axis counts.
#[derive(Clone, Copy)]
enum XAxis {
    /// Minutes before now, over the last `span` minutes.
    MinutesAgo(f64),
    /// Drills, numbered from 1 (oldest) to `n`.
    Drill(f64),
}

/// A chart of `points` (minutes relative to now, value), over the last `span_min` minutes.
/// Returns SVG markup, or a short note when there is nothing to draw.
pub fn line_chart(
    title: &str,
    points: &[(f64, f64)],
    span_min: f64,
    color: RGBColor,
    size: (u32, u32),
) -> String {
    render(title, points, color, size, XAxis::MinutesAgo(span_min))
}

/// A chart of `points` (x: the drill's number, oldest first; y: the value) with a dot on each.
pub fn series_chart(
    title: &str,
    points: &[(f64, f64)],
    color: RGBColor,
    size: (u32, u32),
) -> String {
    let n = points.iter().map(|p| p.0).fold(1.0, f64::max);
    render(title, points, color, size, XAxis::Drill(n))
}

fn render(
    title: &str,
    points: &[(f64, f64)],
    color: RGBColor,
    size: (u32, u32),
    x: XAxis,
) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        if draw(&root, title, points, color, x).is_err() {
            return format!("<p class=\"chart-note\">{title}: cannot draw</p>");
        }
    }
    svg
}

fn draw<'a>(
    root: &'a DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    title: &str,
    points: &[(f64, f64)],
    color: RGBColor,
    x: XAxis,
) -> Result<(), Box<dyn std::error::Error + 'a>> {
    root.fill(&BG)?;
    // At least 0..4, so that small counts get distinct whole-number labels.
    let ymax = (points.iter().map(|p| p.1).fold(0.0, f64::max) * 1.15).max(4.0);
    let (xrange, xlabels) = match x {
        XAxis::MinutesAgo(span) => (-span..0.0, 7),
        XAxis::Drill(n) => (0.5..(n + 0.5), (n as usize).min(10)),
    };
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 15).into_font().color(&WHITE))
        .margin(8)
        .x_label_area_size(22)
        .y_label_area_size(56)
        .build_cartesian_2d(xrange, 0.0..ymax)?;
    let x_label = move |v: &f64| match x {
        XAxis::MinutesAgo(_) if *v == 0.0 => "now".to_string(),
        XAxis::MinutesAgo(_) => format!("{v:.0} min"),
        XAxis::Drill(_) if (v - v.round()).abs() < 0.01 => format!("#{v:.0}"),
        XAxis::Drill(_) => String::new(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .y_labels(4)
        .x_labels(xlabels)
        .light_line_style(BG)
        .bold_line_style(RGBColor(0x26, 0x32, 0x41))
        .axis_style(AXIS)
        .label_style(("sans-serif", 12).into_font().color(&AXIS))
        .x_label_formatter(&x_label)
        .y_label_formatter(&|y| {
            if *y >= 10_000.0 {
                format!("{:.0}k", y / 1_000.0)
            } else {
                format!("{y:.0}")
            }
        })
        .draw()?;
    chart.draw_series(LineSeries::new(
        points.iter().copied(),
        color.stroke_width(2),
    ))?;
    if let XAxis::Drill(_) = x {
        chart.draw_series(points.iter().map(|p| Circle::new(*p, 4, color.filled())))?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_follows_the_data_within_bounds() {
        assert_eq!(span_for(&[], 60.0), 5.0);
        assert_eq!(span_for(&[(-12.3, 1.0), (0.0, 2.0)], 60.0), 13.0);
        assert_eq!(span_for(&[(-500.0, 1.0)], 60.0), 60.0);
    }

    #[test]
    fn a_chart_is_svg_with_its_line_and_title() {
        let svg = line_chart(
            "online devices",
            &[(-60.0, 10.0), (-30.0, 20.0), (0.0, 15.0)],
            60.0,
            GREEN,
            (400, 180),
        );
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        assert!(svg.contains("online devices"));
        assert!(svg.contains("<polyline"), "a line is drawn");
    }
}
