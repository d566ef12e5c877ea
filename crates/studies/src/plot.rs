//! SVG line charts for reports (plotters, SVG backend).

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
}
