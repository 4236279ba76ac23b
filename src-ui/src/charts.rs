//! Line charts drawn with plotters into an SVG string, placed in the page as markup.
//!
//! Rules kept here:
//! - a chart that cannot be drawn is a short note naming it, never a broken page;
//! - counts are labelled as whole numbers (thousands as "k"), the vertical axis starts at 0;
//! - a two-series chart names each line in a legend above the plot, never over the data;
//! - a line breaks where data is missing (the core's `series::segments`), never drawn
//!   straight across an outage.

use plotters::prelude::*;

const BG: RGBColor = RGBColor(0x14, 0x1b, 0x24);
const AXIS: RGBColor = RGBColor(0x9f, 0xb0, 0xc2);
pub const GREEN: RGBColor = RGBColor(0x39, 0xd9, 0x8a);
pub const RED: RGBColor = RGBColor(0xff, 0x5c, 0x5c);
pub const AMBER: RGBColor = RGBColor(0xf5, 0xb9, 0x42);
const MARK: RGBColor = RGBColor(0x5c, 0xb8, 0xff);
const GRID: RGBColor = RGBColor(0x26, 0x32, 0x41);

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
#[cfg_attr(not(test), allow(dead_code))] // for charts without sample times
pub fn line_chart(
    title: &str,
    points: &[(f64, f64)],
    span_min: f64,
    color: RGBColor,
    size: (u32, u32),
) -> String {
    render(
        title,
        points,
        std::slice::from_ref(&(0..points.len())),
        color,
        size,
        XAxis::MinutesAgo(span_min),
    )
}

/// [`line_chart`] of `points` taken at `times` (ms, oldest first), the line broken wherever two
/// samples are more than `max_gap_ms` apart.
pub fn gapped_chart(
    title: &str,
    points: &[(f64, f64)],
    times: &[u64],
    max_gap_ms: u64,
    span_min: f64,
    color: RGBColor,
    size: (u32, u32),
) -> String {
    let runs = switchyard_core::series::segments(times, max_gap_ms);
    render(
        title,
        points,
        &runs,
        color,
        size,
        XAxis::MinutesAgo(span_min),
    )
}

/// A chart of `points` (x: the drill's number, oldest first; y: the value) with a dot on each.
pub fn series_chart(
    title: &str,
    points: &[(f64, f64)],
    color: RGBColor,
    size: (u32, u32),
) -> String {
    let n = points.iter().map(|p| p.0).fold(1.0, f64::max);
    render(
        title,
        points,
        std::slice::from_ref(&(0..points.len())),
        color,
        size,
        XAxis::Drill(n),
    )
}

fn render(
    title: &str,
    points: &[(f64, f64)],
    runs: &[std::ops::Range<usize>],
    color: RGBColor,
    size: (u32, u32),
    x: XAxis,
) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        if draw(&root, title, points, runs, color, x).is_err() {
            return format!("<p class=\"chart-note\">{title}: cannot draw</p>");
        }
    }
    svg
}

fn draw<'a>(
    root: &'a DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    title: &str,
    points: &[(f64, f64)],
    runs: &[std::ops::Range<usize>],
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
        .bold_line_style(GRID)
        .axis_style(AXIS)
        .label_style(("sans-serif", 12).into_font().color(&AXIS))
        .x_label_formatter(&x_label)
        .y_label_formatter(&count_label)
        .draw()?;
    for run in runs {
        let part = points.get(run.clone()).unwrap_or_default();
        chart.draw_series(LineSeries::new(part.iter().copied(), color.stroke_width(2)))?;
        // A lone sample between gaps is still seen.
        if part.len() == 1 {
            chart.draw_series(part.iter().map(|p| Circle::new(*p, 2, color.filled())))?;
        }
    }
    if let XAxis::Drill(_) = x {
        chart.draw_series(points.iter().map(|p| Circle::new(*p, 4, color.filled())))?;
    }
    root.present()?;
    Ok(())
}

fn count_label(y: &f64) -> String {
    if *y >= 10_000.0 {
        format!("{:.0}k", y / 1_000.0)
    } else {
        format!("{y:.0}")
    }
}

/// One line of a two-series chart: its name in the legend, its points (x: minutes since the
/// chart's start, y: the value), its colour.
#[derive(Clone, Copy)]
pub struct Series<'a> {
    pub name: &'a str,
    pub points: &'a [(f64, f64)],
    pub color: RGBColor,
}

/// A moment marked on a chart: a vertical line at `at` minutes with a short label.
#[derive(Clone, Copy)]
pub struct Mark<'a> {
    pub at: f64,
    pub label: &'a str,
}

/// Two lines over minutes since a start (0 to `span_min`), a legend naming them above the plot,
/// and `marks` (those inside the span) as labelled vertical lines. Returns SVG markup, or a
/// short note when it cannot be drawn.
pub fn two_series_chart(
    title: &str,
    series: [Series; 2],
    marks: &[Mark],
    span_min: f64,
    size: (u32, u32),
) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        if draw_two(&root, title, series, marks, span_min.max(0.1)).is_err() {
            return format!("<p class=\"chart-note\">{title}: cannot draw</p>");
        }
    }
    svg
}

/// "0", "0.5 min", "12 min": one decimal while the span is a few minutes.
fn minutes_label(span: f64) -> impl Fn(&f64) -> String {
    move |v: &f64| {
        if v.abs() < 1e-9 {
            "0".to_string()
        } else if span <= 4.0 {
            format!("{v:.1} min")
        } else {
            format!("{v:.0} min")
        }
    }
}

fn draw_two<'a>(
    root: &'a DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    title: &str,
    series: [Series; 2],
    marks: &[Mark],
    span: f64,
) -> Result<(), Box<dyn std::error::Error + 'a>> {
    root.fill(&BG)?;
    let (head, body) = root.split_vertically(28);
    // The title on the left, the legend on the right: nothing drawn over the lines.
    // Sizes in points: plotters writes them as pixels at 1/1.24.
    let title_font = ("sans-serif", 18).into_font().color(&WHITE);
    head.draw(&Text::new(title.to_string(), (10, 6), title_font))?;
    let legend_font = ("sans-serif", 17).into_font();
    let legend_style: TextStyle = legend_font.clone().into();
    let width = head.dim_in_pixel().0 as i32;
    let mut right = width - 10;
    for s in series.iter().rev() {
        let (w, _) = head.estimate_text_size(s.name, &legend_style)?;
        let x = right - w as i32;
        head.draw(&Text::new(
            s.name.to_string(),
            (x, 7),
            legend_font.color(&s.color),
        ))?;
        head.draw(&PathElement::new(
            vec![(x - 24, 15), (x - 6, 15)],
            s.color.stroke_width(3),
        ))?;
        right = x - 40;
    }
    let ymax = (series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0, f64::max)
        * 1.3)
        .max(4.0);
    // The top fifth stays clear of the lines for the marks' labels; the right margin leaves
    // room for the last minute label.
    let mut chart = ChartBuilder::on(&body)
        .margin(8)
        .margin_top(4)
        .margin_right(28)
        .x_label_area_size(24)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..span, 0.0..ymax)?;
    let x_label = minutes_label(span);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .y_labels(4)
        .x_labels(7)
        .light_line_style(BG)
        .bold_line_style(GRID)
        .axis_style(AXIS)
        .label_style(("sans-serif", 15).into_font().color(&AXIS))
        .x_label_formatter(&x_label)
        .y_label_formatter(&count_label)
        .draw()?;
    let mark_font = ("sans-serif", 15).into_font().color(&MARK);
    for (i, m) in marks
        .iter()
        .filter(|m| (0.0..=span).contains(&m.at))
        .enumerate()
    {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(m.at, 0.0), (m.at, ymax)],
            MARK.mix(0.7).stroke_width(1),
        )))?;
        // Labels step down so that two close marks do not print over each other; one past
        // the middle sits on the line's left.
        let (px, py) = chart.backend_coord(&(m.at, ymax));
        let (w, _) = root.estimate_text_size(m.label, &mark_font)?;
        let x = if m.at > span * 0.6 {
            px - w as i32 - 4
        } else {
            px + 4
        };
        root.draw(&Text::new(
            m.label.to_string(),
            (x, py + 2 + 16 * i as i32),
            mark_font.clone(),
        ))?;
    }
    for s in series {
        chart.draw_series(LineSeries::new(
            s.points.iter().copied(),
            s.color.stroke_width(2),
        ))?;
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

    #[test]
    fn a_gap_longer_than_three_polls_breaks_the_line_in_two() {
        let times = [0, 5_000, 10_000, 100_000, 105_000];
        let points: Vec<(f64, f64)> = times
            .iter()
            .map(|t| ((*t as f64 - 105_000.0) / 60_000.0, 10.0))
            .collect();
        // The series' own lines (the grid is drawn with polylines too, in other colours).
        let lines = |svg: &str| {
            svg.split("<polyline")
                .skip(1)
                .filter(|l| {
                    l.split('>')
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase()
                        .contains("#39D98A")
                })
                .count()
        };
        let gapped = gapped_chart("online", &points, &times, 15_000, 5.0, GREEN, (400, 180));
        assert_eq!(lines(&gapped), 2, "one line each side of the gap");
        let bridged = gapped_chart("online", &points, &times, 200_000, 5.0, GREEN, (400, 180));
        assert_eq!(lines(&bridged), 1);
    }

    #[test]
    fn a_two_series_chart_names_both_lines_and_marks_only_what_is_inside_its_span() {
        let old = [(0.0, 900.0), (1.0, 400.0), (2.0, 30.0)];
        let new = [(0.0, 0.0), (1.0, 450.0), (2.0, 860.0)];
        let svg = two_series_chart(
            "online per region",
            [
                Series {
                    name: "us-east-1",
                    points: &old,
                    color: AMBER,
                },
                Series {
                    name: "eu-west-1",
                    points: &new,
                    color: GREEN,
                },
            ],
            &[
                Mark {
                    at: 0.5,
                    label: "switch",
                },
                Mark {
                    at: 1.5,
                    label: "TTL end",
                },
                Mark {
                    at: 9.0,
                    label: "beyond",
                },
            ],
            2.0,
            (640, 200),
        );
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        for word in [
            "online per region",
            "us-east-1",
            "eu-west-1",
            "switch",
            "TTL end",
        ] {
            assert!(svg.contains(word), "{word} is drawn");
        }
        assert!(!svg.contains("beyond"), "a mark past the span is left out");
        for color in ["#F5B942", "#39D98A"] {
            let line = format!("stroke=\"{color}\" stroke-width=\"2\"");
            assert_eq!(svg.matches(&line).count(), 1, "one line in {color}");
        }
        assert!(
            svg.contains("0.5 min"),
            "minutes since the start, in tenths"
        );
    }
}
