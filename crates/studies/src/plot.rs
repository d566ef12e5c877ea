//! SVG line and bar charts for reports (plotters, SVG backend).

use choicelab_core::{Error, Result};
use plotters::prelude::*;

/// One named line of a chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// Points (x, y).
    pub points: Vec<(f64, f64)>,
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Smallest value drawn on a log axis; zeros (exact convergence) are drawn there.
const LOG_FLOOR: f64 = 1e-16;

/// A line chart as an SVG document; with `log_y`, y is drawn on a log scale.
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    log_y: bool,
) -> Result<String> {
    let fail = |e: &dyn std::fmt::Display| Error::Numerical {
        context: format!("plot `{title}`"),
        message: e.to_string(),
    };
    let points = series.iter().flat_map(|s| s.points.iter());
    let clamp = |y: f64| if log_y { y.max(LOG_FLOOR) } else { y };
    let (mut x_min, mut x_max, mut y_min, mut y_max) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in points.filter(|(x, y)| x.is_finite() && y.is_finite()) {
        let y = clamp(y);
        x_min = x_min.min(x);
        x_max = x_max.max(x);
        y_min = y_min.min(y);
        y_max = y_max.max(y);
    }
    if x_min > x_max {
        (x_min, x_max, y_min, y_max) = (0.0, 1.0, 1.0, 10.0);
    }
    if x_max == x_min {
        x_max = x_min + 1.0;
    }
    if y_max <= y_min {
        y_max = if log_y { y_min * 10.0 } else { y_min + 1.0 };
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 440)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70);
        let style = |i: usize| PALETTE[i % PALETTE.len()].stroke_width(2);
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc(x_label)
                    .y_desc(y_label)
                    .x_label_formatter(&|x| tick_label(*x))
                    .y_label_formatter(&|y| tick_label(*y))
                    .draw()
                    .map_err(|e| fail(&e))?;
                for (i, s) in series.iter().enumerate() {
                    let line = s.points.iter().map(|&(x, y)| (x, clamp(y)));
                    chart
                        .draw_series(LineSeries::new(line, style(i)))
                        .map_err(|e| fail(&e))?
                        .label(s.name.clone())
                        .legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 18, y)], style(i))
                        });
                }
                chart
                    .configure_series_labels()
                    .background_style(WHITE.mix(0.8))
                    .border_style(BLACK)
                    .draw()
                    .map_err(|e| fail(&e))?;
            }};
        }
        if log_y {
            draw!(builder
                .build_cartesian_2d(x_min..x_max, (y_min..y_max).log_scale())
                .map_err(|e| fail(&e))?);
        } else {
            draw!(builder
                .build_cartesian_2d(x_min..x_max, y_min..y_max)
                .map_err(|e| fail(&e))?);
        }
        root.present().map_err(|e| fail(&e))?;
    }
    Ok(svg)
}

/// A grouped horizontal bar chart of probabilities: one group per label (top to bottom), one
/// bar per series, x from 0 to 1 with the legend to the right of 1.
pub fn bar_chart(title: &str, labels: &[String], series: &[(String, Vec<f64>)]) -> Result<String> {
    let fail = |e: &dyn std::fmt::Display| Error::Numerical {
        context: format!("plot `{title}`"),
        message: e.to_string(),
    };
    let n = labels.len();
    let mut svg = String::new();
    {
        let height = 120 + 26 * n as u32;
        let root = SVGBackend::with_string(&mut svg, (820, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(200)
            .build_cartesian_2d(0.0..1.4, -0.5..n as f64 - 0.5)
            .map_err(|e| fail(&e))?;
        // Group i sits at y = n − 1 − i, so the first label is on top; the legend sits right
        // of x = 1.
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n + 2)
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() < 1e-9 && (0.0..n as f64).contains(&i) {
                    labels[n - 1 - i as usize].clone()
                } else {
                    String::new()
                }
            })
            .x_label_formatter(&|x| {
                if *x <= 1.0 + 1e-9 {
                    format!("{x:.1}")
                } else {
                    String::new()
                }
            })
            .x_desc("probability")
            .draw()
            .map_err(|e| fail(&e))?;
        let height = 0.8 / series.len() as f64;
        for (s, (name, values)) in series.iter().enumerate() {
            let color = PALETTE[s % PALETTE.len()];
            chart
                .draw_series(values.iter().enumerate().map(|(i, &v)| {
                    let top = (n - 1 - i) as f64 + 0.4 - s as f64 * height;
                    Rectangle::new([(0.0, top), (v, top - height)], color.filled())
                }))
                .map_err(|e| fail(&e))?
                .label(name.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))?;
    }
    Ok(svg)
}

/// A short tick label: plain for moderate magnitudes, scientific otherwise.
fn tick_label(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if (1e-2..1e5).contains(&x.abs()) {
        let text = format!("{x:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{x:.0e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_log_charts_with_zeros() {
        let series = vec![
            Series {
                name: "a".into(),
                points: vec![(1.0, 1.0), (2.0, 0.1), (3.0, 0.0)],
            },
            Series {
                name: "b".into(),
                points: vec![(1.0, 2.0)],
            },
        ];
        let svg = line_chart("Residuals", "iteration", "residual", &series, true).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("Residuals") && svg.contains("polyline"));
    }

    #[test]
    fn draws_grouped_bars_with_labels() {
        let labels = vec!["x=a".to_string(), "x=b".to_string()];
        let series = vec![
            ("p".to_string(), vec![0.25, 0.75]),
            ("q".to_string(), vec![1.0, 0.0]),
        ];
        let svg = bar_chart("Levels", &labels, &series).unwrap();
        assert!(svg.contains("x=a") && svg.contains("x=b") && svg.contains("<rect"));
    }
}
