//! A drill's report: charts drawn with plotters (SVG for the page, PNG for export) and a
//! self-contained HTML page. Everything here is a function of the stored drill.
//! (Past 500 lines: three charts and the page they sit on share one set of scales, colours
//! and labels; splitting them would spread one report over four files.)

use plotters::coord::Shift;
use plotters::prelude::*;
use std::fmt::Write as _;
use std::sync::Once;
use switchyard_core::drills::{Drill, EventKind};

/// The charts of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    /// Devices online per region over the drill.
    Reconnection,
    /// Messages waiting at the edge, and messages dropped since the start.
    Backlog,
    /// The drill's events on one time axis.
    Timeline,
}

impl Chart {
    pub const ALL: [Chart; 3] = [Chart::Reconnection, Chart::Backlog, Chart::Timeline];

    pub fn name(self) -> &'static str {
        match self {
            Chart::Reconnection => "reconnection",
            Chart::Backlog => "backlog",
            Chart::Timeline => "timeline",
        }
    }

    pub fn parse(s: &str) -> Option<Chart> {
        Chart::ALL.into_iter().find(|c| c.name() == s)
    }

    fn title(self) -> &'static str {
        match self {
            Chart::Reconnection => "Devices online per region",
            Chart::Backlog => "Edge backlog and messages dropped",
            Chart::Timeline => "Timeline",
        }
    }
}

pub const SIZE: (u32, u32) = (900, 320);

const INK: RGBColor = RGBColor(0x1d, 0x26, 0x33);
const GRID: RGBColor = RGBColor(0xe3, 0xe8, 0xee);
const MUTED: RGBColor = RGBColor(0x5b, 0x6b, 0x7c);
const SERIES: [RGBColor; 4] = [
    RGBColor(0x1f, 0x77, 0xd0),
    RGBColor(0x1a, 0x9e, 0x5a),
    RGBColor(0xd9, 0x7a, 0x00),
    RGBColor(0x8e, 0x44, 0xad),
];
const RED: RGBColor = RGBColor(0xc6, 0x28, 0x28);

/// The font text is measured with, and drawn with in PNGs (an SVG names it and leaves the
/// drawing to the viewer).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            tracing::error!("the embedded chart font could not be read");
        }
    });
}

type Ctx<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

type DrawResult<E> = Result<(), DrawingAreaErrorKind<E>>;

/// A chart as SVG markup.
pub fn svg(d: &Drill, chart: Chart) -> Result<String, String> {
    // Text is measured with the embedded font even when the viewer draws it.
    register_font();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        draw(&root, d, chart)
            .map_err(|e| format!("cannot draw the {} chart: {e:?}", chart.name()))?;
    }
    Ok(out)
}

/// A chart as a PNG file.
pub fn png(d: &Drill, chart: Chart) -> Result<Vec<u8>, String> {
    register_font();
    let (w, h) = SIZE;
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        draw(&root, d, chart)
            .map_err(|e| format!("cannot draw the {} chart: {e:?}", chart.name()))?;
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(|e| format!("png: {e}"))?;
        writer
            .write_image_data(&rgb)
            .map_err(|e| format!("png: {e}"))?;
    }
    Ok(out)
}

fn minutes(ms: u64) -> f64 {
    ms as f64 / 60_000.0
}

fn span_min(d: &Drill) -> f64 {
    let last = d
        .recording
        .samples
        .last()
        .map(|s| s.t_ms)
        .max(d.recording.events.last().map(|e| e.t_ms))
        .unwrap_or(0);
    minutes(last).max(0.5)
}

fn t_label(x: &f64) -> String {
    let s = (x * 60.0).round() as i64;
    if s % 60 == 0 {
        format!("{} min", s / 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

fn count_label(y: &f64) -> String {
    if *y >= 10_000.0 {
        format!("{:.0}k", y / 1_000.0)
    } else {
        format!("{y:.0}")
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    d: &Drill,
    chart: Chart,
) -> DrawResult<DB::ErrorType> {
    root.fill(&WHITE)?;
    let span = span_min(d);
    let rec = &d.recording;
    match chart {
        Chart::Reconnection => {
            let regions: Vec<String> = rec
                .samples
                .first()
                .map(|s| s.online.iter().map(|(r, _)| r.clone()).collect())
                .unwrap_or_default();
            let ymax = rec
                .samples
                .iter()
                .flat_map(|s| s.online.iter().map(|(_, n)| *n))
                .max()
                .unwrap_or(0) as f64;
            let mut c = ChartBuilder::on(root)
                .caption(chart.title(), ("sans-serif", 17).into_font().color(&INK))
                .margin(12)
                .x_label_area_size(28)
                .y_label_area_size(56)
                .build_cartesian_2d(0.0..span, 0.0..(ymax * 1.1).max(4.0))?;
            mesh(&mut c)?;
            for (i, region) in regions.iter().enumerate() {
                let color = SERIES[i % SERIES.len()];
                c.draw_series(LineSeries::new(
                    rec.samples
                        .iter()
                        .map(|s| (minutes(s.t_ms), s.online_in(region) as f64)),
                    color.stroke_width(2),
                ))?
                .label(region.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
                });
            }
            if let Some(m) = &d.metrics {
                let need = m.needed_back as f64;
                c.draw_series(LineSeries::new(
                    [(0.0, need), (span, need)],
                    MUTED.stroke_width(1),
                ))?
                .label(format!(
                    "{} back ({:.0} %)",
                    m.needed_back,
                    d.objectives.recovered_share * 100.0
                ))
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], MUTED.stroke_width(1))
                });
            }
            markers(&mut c, d, ymax * 1.1)?;
            legend(&mut c)?;
        }
        Chart::Backlog => {
            let base = rec.samples.first().map_or(0, |s| s.dropped);
            let ymax = rec
                .samples
                .iter()
                .map(|s| s.backlog.max(s.dropped - base.min(s.dropped)))
                .max()
                .unwrap_or(0)
                .max(d.objectives.max_backlog.min(u64::MAX / 2)) as f64;
            let mut c = ChartBuilder::on(root)
                .caption(chart.title(), ("sans-serif", 17).into_font().color(&INK))
                .margin(12)
                .x_label_area_size(28)
                .y_label_area_size(56)
                .build_cartesian_2d(0.0..span, 0.0..(ymax * 1.1).max(4.0))?;
            mesh(&mut c)?;
            c.draw_series(
                AreaSeries::new(
                    rec.samples
                        .iter()
                        .map(|s| (minutes(s.t_ms), s.backlog as f64)),
                    0.0,
                    SERIES[0].mix(0.25),
                )
                .border_style(SERIES[0].stroke_width(2)),
            )?
            .label("messages waiting")
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], SERIES[0].stroke_width(3))
            });
            c.draw_series(LineSeries::new(
                rec.samples
                    .iter()
                    .map(|s| (minutes(s.t_ms), s.dropped.saturating_sub(base) as f64)),
                RED.stroke_width(2),
            ))?
            .label(format!(
                "dropped since start ({})",
                rec.samples
                    .last()
                    .map_or(0, |s| s.dropped.saturating_sub(base))
            ))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], RED.stroke_width(3)));
            let limit = d.objectives.max_backlog as f64;
            c.draw_series(LineSeries::new(
                [(0.0, limit), (span, limit)],
                MUTED.stroke_width(1),
            ))?
            .label(format!("objective: ≤ {} waiting", d.objectives.max_backlog))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], MUTED.stroke_width(1)));
            legend(&mut c)?;
        }
        Chart::Timeline => {
            let rows: Vec<EventKind> = {
                let mut kinds: Vec<EventKind> = Vec::new();
                for e in &rec.events {
                    if !kinds.contains(&e.kind) {
                        kinds.push(e.kind);
                    }
                }
                kinds
            };
            let n = rows.len().max(1) as f64;
            // The first event on the top row.
            let row_of = |k: EventKind| {
                rows.iter()
                    .position(|x| *x == k)
                    .map_or(0.0, |i| n - 1.0 - i as f64)
            };
            let mut c = ChartBuilder::on(root)
                .caption(chart.title(), ("sans-serif", 17).into_font().color(&INK))
                .margin(12)
                .x_label_area_size(28)
                .y_label_area_size(150)
                .build_cartesian_2d(0.0..span, -0.5..(n - 0.5))?;
            let labels = rows.clone();
            c.configure_mesh()
                .disable_y_mesh()
                .light_line_style(TRANSPARENT)
                .bold_line_style(GRID)
                .axis_style(MUTED)
                .y_labels(rows.len().max(1))
                .label_style(("sans-serif", 12).into_font().color(&MUTED))
                .x_label_formatter(&t_label)
                .y_label_formatter(&|y| {
                    let i = y.round();
                    if (y - i).abs() < 0.01 && i >= 0.0 && i < n {
                        labels
                            .get((n - 1.0 - i) as usize)
                            .map_or(String::new(), |k| k.label().to_string())
                    } else {
                        String::new()
                    }
                })
                .draw()?;
            // The outage as a band on its row.
            if let (Some(a), Some(b)) = (
                rec.first(EventKind::FaultInjected),
                rec.first(EventKind::FaultCleared),
            ) {
                {
                    let y = row_of(EventKind::FaultInjected);
                    c.draw_series([Rectangle::new(
                        [(minutes(a.t_ms), y - 0.3), (minutes(b.t_ms), y + 0.3)],
                        RED.mix(0.25).filled(),
                    )])?;
                }
            }
            for e in &rec.events {
                let row = row_of(e.kind);
                let color = match e.kind {
                    EventKind::FaultInjected | EventKind::OutageDetected | EventKind::Aborted => {
                        RED
                    }
                    EventKind::DevicesBack
                    | EventKind::FailbackDone
                    | EventKind::BacklogDrained => SERIES[1],
                    _ => SERIES[0],
                };
                c.draw_series([Circle::new((minutes(e.t_ms), row), 5, color.filled())])?;
            }
        }
    }
    root.present()?;
    Ok(())
}

fn mesh<'a, DB: DrawingBackend + 'a>(c: &mut Ctx<'a, DB>) -> DrawResult<DB::ErrorType> {
    c.configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .axis_style(MUTED)
        .x_labels(8)
        .y_labels(5)
        .label_style(("sans-serif", 12).into_font().color(&MUTED))
        .x_label_formatter(&t_label)
        .y_label_formatter(&count_label)
        .draw()
}

fn legend<'a, DB: DrawingBackend + 'a>(c: &mut Ctx<'a, DB>) -> DrawResult<DB::ErrorType> {
    c.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(GRID)
        .label_font(("sans-serif", 12).into_font().color(&INK))
        .draw()
}

/// Dashed verticals at the fault, the confirmation and the devices' return.
fn markers<'a, DB: DrawingBackend + 'a>(
    c: &mut Ctx<'a, DB>,
    d: &Drill,
    top: f64,
) -> DrawResult<DB::ErrorType> {
    // Labels on three heights, so that events close in time do not write over each other.
    for (i, (kind, color)) in [
        (EventKind::FaultInjected, RED),
        (EventKind::FailoverConfirmed, SERIES[0]),
        (EventKind::DevicesBack, SERIES[1]),
    ]
    .into_iter()
    .enumerate()
    {
        if let Some(e) = d.recording.first(kind) {
            let x = minutes(e.t_ms);
            c.draw_series(DashedLineSeries::new(
                [(x, 0.0), (x, top)],
                6,
                4,
                color.stroke_width(1),
            ))?;
            c.draw_series([Text::new(
                format!(" {}", kind.label()),
                (x, top * (0.97 - 0.08 * i as f64)),
                ("sans-serif", 11).into_font().color(&color),
            )])?;
        }
    }
    Ok(())
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn secs(ms: Option<u64>) -> String {
    ms.map_or("—".into(), switchyard_core::drills::format_secs)
}

/// `at` as an ISO-like UTC date and time.
fn utc(at: u64) -> String {
    let secs = at / 1_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3_600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// The report as one self-contained HTML page (charts inline as SVG).
pub fn html(d: &Drill) -> Result<String, String> {
    let s = &d.summary;
    let mut h = String::new();
    let verdict = s.status.as_str();
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Drill report: {name}</title>\
         <style>\
         body{{font:14px/1.45 system-ui,sans-serif;color:#1d2633;margin:2rem auto;max-width:960px;padding:0 1rem}}\
         h1{{margin:0 0 .2rem}} .meta{{color:#5b6b7c}} table{{border-collapse:collapse;margin:.6rem 0 1.2rem;width:100%}}\
         th,td{{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #e3e8ee;vertical-align:top}}\
         .verdict{{display:inline-block;padding:.15rem .6rem;border-radius:4px;font-weight:600;color:#fff}}\
         .passed{{background:#1a9e5a}} .failed{{background:#c62828}} .aborted,.running{{background:#5b6b7c}}\
         .pass{{color:#1a9e5a;font-weight:600}} .fail{{color:#c62828;font-weight:600}} figure{{margin:1rem 0}}\
         pre{{background:#f4f6f8;padding:.6rem;overflow:auto}}\
         </style></head><body>\n\
         <h1>Drill report: {name}</h1>\n\
         <p class=\"meta\">{id} · {mode} drill on the {source} fleet · started {start} by {by}{end}</p>\n\
         <p><span class=\"verdict {verdict}\" id=\"verdict\">{verdict_up}</span>{error}</p>\n",
        name = esc(&s.name),
        id = esc(&s.id),
        mode = match s.mode {
            switchyard_core::drills::DrillMode::Simulated => "simulated (simulated time)",
            switchyard_core::drills::DrillMode::Live => "live",
        },
        source = esc(&s.source),
        start = utc(s.started_at),
        by = esc(&s.started_by),
        end = s.ended_at.map_or(String::new(), |e| format!(" · ended {}", utc(e))),
        verdict_up = verdict.to_uppercase(),
        error = d.error.as_deref().map_or(String::new(), |e| format!(" {}", esc(e))),
    );
    if let Some(m) = &d.metrics {
        h.push_str("<h2>Objectives</h2>\n<table id=\"objectives\"><tr><th>Objective</th><th>Target</th><th>Measured</th><th>Result</th></tr>\n");
        for o in &m.objectives {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                esc(&o.name),
                esc(&o.target),
                esc(&o.actual),
                if o.passed { "pass" } else { "fail" },
                if o.passed { "met" } else { "missed" }
            );
        }
        h.push_str("</table>\n<h2>Measures</h2>\n<table id=\"measures\">\n");
        let rows = [
            (
                "Time to detect",
                secs(m.time_to_detect_ms),
                "fault injected → outage detected",
            ),
            (
                "Time to decide",
                secs(m.time_to_decide_ms),
                "outage detected → failover confirmed",
            ),
            (
                "Recovery time",
                secs(m.recovery_ms),
                "disruption → devices back",
            ),
            (
                "Devices online before",
                m.baseline_online.to_string(),
                "the last sample before the disruption",
            ),
            (
                "Devices that make \"back\"",
                m.needed_back.to_string(),
                "that share of the devices online before, in the active region",
            ),
            (
                "Messages lost",
                m.messages_lost.to_string(),
                "dropped at the edge during the drill",
            ),
            (
                "Peak backlog",
                m.peak_backlog.to_string(),
                "messages waiting at the edge at the worst moment",
            ),
            (
                "Time to drain",
                secs(m.drain_ms),
                "peak backlog → back to the level before the disruption",
            ),
            (
                "Command reachability",
                m.command_reachability
                    .map_or("—".into(), |r| format!("{:.1} %", r * 100.0)),
                "share of the fleet a ping reached once the devices were back",
            ),
        ];
        for (k, v, why) in rows {
            let _ = writeln!(
                h,
                "<tr><th>{}</th><td>{}</td><td class=\"meta\">{}</td></tr>",
                esc(k),
                esc(&v),
                esc(why)
            );
        }
        h.push_str("</table>\n");
    }
    curve_table(&mut h, d);
    h.push_str("<h2>Charts</h2>\n");
    for c in Chart::ALL {
        let _ = writeln!(
            h,
            "<figure id=\"chart-{}\">{}</figure>",
            c.name(),
            svg(d, c)?
        );
    }
    h.push_str("<h2>Timeline</h2>\n<table id=\"timeline\"><tr><th>Time</th><th>Event</th><th>Detail</th></tr>\n");
    for e in &d.recording.events {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            secs(Some(e.t_ms)),
            esc(e.kind.label()),
            esc(&e.detail)
        );
    }
    h.push_str("</table>\n<h2>Notes</h2>\n");
    if d.notes.trim().is_empty() {
        h.push_str("<p class=\"meta\">No notes yet.</p>\n");
    } else {
        let _ = writeln!(h, "<p style=\"white-space:pre-wrap\">{}</p>", esc(&d.notes));
    }
    h.push_str("<h2>Action items</h2>\n");
    if d.action_items.is_empty() {
        h.push_str("<p class=\"meta\">None.</p>\n");
    } else {
        h.push_str("<ul>\n");
        for a in &d.action_items {
            let _ = writeln!(
                h,
                "<li>{}{}{}</li>",
                if a.done { "✔ " } else { "☐ " },
                esc(&a.text),
                a.owner
                    .as_deref()
                    .map_or(String::new(), |o| format!(" — {}", esc(o)))
            );
        }
        h.push_str("</ul>\n");
    }
    let scenario = serde_json::to_string_pretty(&d.scenario).unwrap_or_default();
    let objectives = serde_json::to_string_pretty(&d.objectives).unwrap_or_default();
    let _ = write!(
        h,
        "<h2>Scenario and objectives</h2>\n<pre>{}</pre>\n<pre>{}</pre>\n</body></html>\n",
        esc(&scenario),
        esc(&objectives)
    );
    Ok(h)
}

/// The failover's reconnection curve, at most a dozen of its points: online in the region left
/// and in the one moved to, from the switch to the failover's end.
fn curve_table(h: &mut String, d: &Drill) {
    let curve = switchyard_core::moving::thin(&d.recording.curve, 12);
    if curve.is_empty() {
        return;
    }
    h.push_str(
        "<h2>Reconnection curve</h2>\n<table id=\"curve\"><tr><th>Time</th>\
         <th>Online in the region left</th><th>Online in the region moved to</th></tr>\n",
    );
    for p in curve {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            t_label(&minutes(p.at)),
            p.source,
            p.target
        );
    }
    h.push_str("</table>\n");
}

/// Writes the report into `dir` (made if missing): `report.html`, `report.json` and each chart
/// as PNG. Returns the files written.
pub fn write_all(d: &Drill, dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    let mut files: Vec<(std::path::PathBuf, Vec<u8>)> = vec![
        (dir.join("report.html"), html(d)?.into_bytes()),
        (
            dir.join("report.json"),
            serde_json::to_vec_pretty(d).map_err(|e| format!("cannot encode the drill: {e}"))?,
        ),
    ];
    for c in Chart::ALL {
        files.push((dir.join(format!("{}.png", c.name())), png(d, c)?));
    }
    let mut written = Vec::new();
    for (path, bytes) in files {
        std::fs::write(&path, bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
