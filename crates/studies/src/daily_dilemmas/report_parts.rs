//! The report's prompt, tier, planted-chooser and mapping parts for `daily-dilemmas`.

use choicelab_choice::agreement::spearman;
use choicelab_core::Result;

use super::data::{Dilemma, Theory};
use super::elicit::{question, Asked, DilemmaAnswer, Order};
use super::scoring::{LabelScore, MappingCheck, ValueScores};
use super::sim::{Planted, SimSettings};
use super::Config;
use crate::chooser_setup::Reading;
use crate::plot::bar_chart;
use crate::report::{fmt_number, Figure, Report, Table};

/// The do-rates, position bias and answer diagnostics of one tier.
pub(super) struct TierSummary {
    name: String,
    n: usize,
    do_rate: f64,
    do_first: f64,
    not_first: f64,
    position_bias: f64,
    margin: f64,
    single_do_share: f64,
    single_na: usize,
    label_mass: Option<f64>,
    low_mass_share: Option<f64>,
    samples: usize,
    unparseable: usize,
}

impl TierSummary {
    /// Summarises `answers`.
    pub(super) fn new(name: &str, answers: &[DilemmaAnswer]) -> Self {
        let n = answers.len().max(1) as f64;
        let mean = |f: &dyn Fn(&DilemmaAnswer) -> f64| answers.iter().map(f).sum::<f64>() / n;
        let singles: Vec<bool> = answers.iter().filter_map(|a| a.single_reading_do).collect();
        let masses: Vec<f64> = answers
            .iter()
            .flat_map(|a| a.orders.iter().filter_map(|o| o.label_mass))
            .collect();
        let mass_n = masses.len().max(1) as f64;
        Self {
            name: name.into(),
            n: answers.len(),
            do_rate: mean(&|a| a.p_do()),
            do_first: mean(&|a| a.p_do_in(Order::DoFirst)),
            not_first: mean(&|a| a.p_do_in(Order::NotFirst)),
            position_bias: mean(&|a| 0.5 * (a.orders[0].p_label_one + a.orders[1].p_label_one))
                - 0.5,
            margin: mean(&|a| (a.p_do() - 0.5).abs()),
            single_do_share: singles.iter().filter(|&&d| d).count() as f64
                / singles.len().max(1) as f64,
            single_na: answers.len() - singles.len(),
            label_mass: (!masses.is_empty()).then(|| masses.iter().sum::<f64>() / mass_n),
            low_mass_share: (!masses.is_empty())
                .then(|| masses.iter().filter(|&&m| m < 0.5).count() as f64 / mass_n),
            samples: answers
                .iter()
                .flat_map(|a| a.orders.iter().map(|o| o.samples))
                .sum(),
            unparseable: answers
                .iter()
                .flat_map(|a| a.orders.iter().map(|o| o.unparseable))
                .sum(),
        }
    }

    /// Records the summary's numbers under `prefix` (empty for the top level).
    fn record(&self, report: &mut Report, prefix: &str) {
        let key = |name: &str| format!("{prefix}{name}");
        report.number(key("do_rate"), self.do_rate);
        report.number(key("n_dilemmas"), self.n as f64);
        report.number(key("position_bias"), self.position_bias);
        report.number(key("margin"), self.margin);
        report.number(key("do_rate.order_do_first"), self.do_first);
        report.number(key("do_rate.order_not_first"), self.not_first);
        report.number(key("do_rate.single_order"), self.single_do_share);
        report.number(key("single_order.na"), self.single_na as f64);
        if let Some(mass) = self.label_mass {
            report.number(key("label_mass"), mass);
        }
        if let Some(low) = self.low_mass_share {
            report.number(key("label_mass.below_half"), low);
        }
        if self.samples > 0 {
            report.number(key("samples"), self.samples as f64);
            report.number(
                key("na_rate"),
                self.unparseable as f64 / self.samples as f64,
            );
        }
    }
}

/// Quotes the exact prompt wording.
pub(super) fn record_prompt(report: &mut Report, config: &Config) {
    let asked = question("{dilemma_situation}", Order::DoFirst);
    let (system, user) = (&asked[0].content, &asked[1].content);
    let swapped = &question("{dilemma_situation}", Order::NotFirst)[1].content;
    report.notes.push(format!(
        "Prompt (choicelab's variant of the paper's; the instruction comes first so that a \
         local model's prefix cache reuses it). System message: \"{system}\". User message, \
         order \"Action 1 = do\" (the paper's only order):\n\n```\n{user}\n```\n\nSwapped \
         order (\"Action 1 = do not\"):\n\n```\n{swapped}\n```\n\n{}",
        match config.mode {
            Reading::Readout => "Readout mode: P(\"1\") and P(\"2\") as the answer's first token, \
                              renormalised over the two; the raw mass on them is reported. The \
                              paper-faithful single reading is the argmax of order \"Action 1 = \
                              do\". A first-token readout cannot tell the answer \"1\" from an \
                              echo of the instruction (\"1 or 2\"); sample mode can, and counts \
                              the echo as unparseable."
                .to_owned(),
            Reading::Sample => format!(
                "Sample mode: K = {} answers per order at temperature {}, at most {} tokens, \
                 read by prefix (\"1\", \"Action 1\", \"2\", \"Action 2\"); anything else, \
                 an echo of both (\"1 or 2\") included, counts ½ to each. The paper-faithful single reading is one greedy answer to order \
                 \"Action 1 = do\", NA dropped.",
                config.samples_per_order, config.temperature, config.max_tokens
            ),
        }
    ));
}

/// The cross-check of the per-action lists against `values.csv`.
pub(super) fn record_mapping_check(report: &mut Report, check: &MappingCheck) {
    let mut table = Table::new(
        "Per-action theory lists against values.csv's mapping",
        &["theory", "(value, label) pairs compared", "disagreements"],
    );
    for (t, theory) in Theory::ALL.iter().enumerate() {
        table.push(vec![
            theory.name().into(),
            check.compared[t].to_string(),
            check.disagreements[t].to_string(),
        ]);
    }
    report.tables.push(table);
    let total: usize = check.disagreements.iter().sum();
    report.number("mapping.disagreements", total as f64);
    report.number("mapping.unknown_values", check.unknown_values as f64);
    report.notes.push(format!(
        "The value scores use the per-action table's own theory lists (aligned with \
         values_names); against values.csv's mapping they disagree in {total} (value, label) \
         pairs, and {} value names are not in values.csv.{}",
        check.unknown_values,
        if check.examples.is_empty() {
            String::new()
        } else {
            format!(" First disagreements: {}.", check.examples.join("; "))
        }
    ));
}

/// The planted chooser's checks: both-order averaging against the planted P(do), the
/// position bias against the planted one, and the scores' order of the planted labels.
pub(super) fn record_planted_order(
    report: &mut Report,
    settings: &SimSettings,
    planted: &Planted,
    scores: &ValueScores,
    summary: &TierSummary,
    n: usize,
) {
    let planted_do = planted.mean_p_do(n);
    let planted_effect = planted.position_effect(n, settings.position_bias);
    report.number("sim.planted_do_rate", planted_do);
    report.number("sim.planted_position_effect", planted_effect);
    report.notes.push(format!(
        "Planted chooser on all {n} dilemmas (label-\"1\" bonus b = {} in logits): the mean of \
         both orders gives do_rate {:.4} against the planted mean P(do) {planted_do:.4} (error \
         {:+.4}), while order \"Action 1 = do\" alone gives {:.4} ({:+.4}) and the swapped order \
         {:.4} ({:+.4}). Averaging removes b to first order (σ(u+b) and σ(u−b) average to σ(u) \
         up to a term in b²). position_bias = {:.4} against the planted effect \
         {planted_effect:.4}.",
        settings.position_bias,
        summary.do_rate,
        summary.do_rate - planted_do,
        summary.do_first,
        summary.do_first - planted_do,
        summary.not_first,
        summary.not_first - planted_do,
        summary.position_bias,
    ));
    let theory = settings.theory;
    let mut table = Table::new(
        format!(
            "Planted chooser: planted {} label weights against recovered scores",
            theory.name()
        ),
        &["label", "planted weight", "score", "S", "N"],
    );
    let (mut weights, mut recovered) = (Vec::new(), Vec::new());
    for (label, &weight) in &planted.label_weights {
        let entry = scores.label(theory, label);
        let score = entry.and_then(LabelScore::score);
        if let Some(score) = score {
            weights.push(weight);
            recovered.push(score);
        }
        table.push(vec![
            label.clone(),
            fmt_number(weight, 3),
            score.map_or("—".into(), |s| format!("{s:+.1}")),
            entry.map_or(0, |e| e.selected).to_string(),
            entry.map_or(0, |e| e.neglected).to_string(),
        ]);
    }
    report.tables.push(table);
    let from_values = planted.from_values.iter().filter(|&&f| f).count();
    report.number("sim.labels_scored", weights.len() as f64);
    let top = |xs: &[f64]| {
        xs.iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
    };
    if weights.len() >= 2 {
        let rho = spearman(&weights, &recovered);
        let top_recovered = top(&weights) == top(&recovered);
        report.number("sim.label_spearman", rho);
        report.number(
            "sim.top_label_recovered",
            f64::from(u8::from(top_recovered)),
        );
        report.notes.push(format!(
            "Planted {} weights: the scores of the planted chooser's choices rank the {} labels \
             that occur with Spearman {rho:.3} against the planted weights; the label with the \
             largest planted weight {} the highest score. This rests on the {from_values} \
             dilemmas with per-action values{}.",
            theory.name(),
            weights.len(),
            if top_recovered {
                "gets"
            } else {
                "does NOT get"
            },
            if from_values < 50 {
                ": a weak check (a handful of choices; one value's own weight can swap labels)"
            } else {
                ""
            }
        ));
    }
}

/// A number to 4 digits, or a dash when there is none.
fn optional(x: Option<f64>) -> String {
    x.map_or("—".into(), |x| fmt_number(x, 4))
}

/// How one row of the tier table writes a tier's cell.
type Cell = dyn Fn(&TierSummary) -> String;

/// The tiers side by side, the language model's diagnostics and per-dilemma answers.
pub(super) fn record_tiers(
    report: &mut Report,
    tiers: &[TierSummary],
    llm: Option<&(String, Asked)>,
    dilemmas: &[Dilemma],
    config: &Config,
) -> Result<()> {
    let mut columns = vec!["measure"];
    columns.extend(tiers.iter().map(|t| t.name.as_str()));
    let mut table = Table::new("Do-rate and position bias per tier", &columns);
    let rows: [(&str, &Cell); 12] = [
        ("dilemmas", &|t| t.n.to_string()),
        ("do_rate (both orders)", &|t| fmt_number(t.do_rate, 4)),
        ("do_rate, Action 1 = do", &|t| fmt_number(t.do_first, 4)),
        ("do_rate, Action 1 = do not", &|t| {
            fmt_number(t.not_first, 4)
        }),
        ("position_bias (P(\"1\") − ½)", &|t| {
            fmt_number(t.position_bias, 4)
        }),
        ("margin: mean abs(P(do) − ½)", &|t| {
            fmt_number(t.margin, 4)
        }),
        ("paper reading: do-share (Action 1 = do only)", &|t| {
            fmt_number(t.single_do_share, 4)
        }),
        ("paper reading: NA (dropped)", &|t| t.single_na.to_string()),
        ("mean label mass P(\"1\") + P(\"2\")", &|t| {
            optional(t.label_mass)
        }),
        ("share of orders with label mass < ½", &|t| {
            optional(t.low_mass_share)
        }),
        ("sampled answers", &|t| t.samples.to_string()),
        ("unparseable share of sampled answers", &|t| {
            optional((t.samples > 0).then(|| t.unparseable as f64 / t.samples as f64))
        }),
    ];
    for (name, cell) in rows {
        let mut row = vec![name.to_owned()];
        row.extend(tiers.iter().map(cell));
        table.push(row);
    }
    report.tables.push(table);
    tiers[0].record(report, "sim.");
    tiers[1].record(report, "sim.subset.");
    let primary = if llm.is_some() {
        &tiers[tiers.len() - 1]
    } else {
        &tiers[0]
    };
    primary.record(report, "");
    report.text(
        "tier",
        if llm.is_some() {
            "language model"
        } else {
            "planted chooser"
        },
    );
    let labels: Vec<String> = [
        "do_rate (both orders)",
        "Action 1 = do",
        "Action 1 = do not",
        "paper reading",
        "P(\"1\"), both orders",
    ]
    .map(String::from)
    .into();
    let series: Vec<(String, Vec<f64>)> = tiers
        .iter()
        .filter(|t| t.name != tiers[1].name || llm.is_some())
        .map(|t| {
            (
                t.name.clone(),
                vec![
                    t.do_rate,
                    t.do_first,
                    t.not_first,
                    t.single_do_share,
                    0.5 + t.position_bias,
                ],
            )
        })
        .collect();
    report.figures.push(Figure {
        file: "do-rates.svg".into(),
        title: "Share of \"do\" choices per label order, and the pull toward label \"1\"".into(),
        svg: bar_chart("Do-rate by label order", &labels, &series)?,
    });
    let Some((description, asked)) = llm else {
        report.notes.push(
            "Language-model tier not asked (chooser = sim): the top-level do_rate, n_dilemmas \
             and position_bias are the planted chooser's."
                .into(),
        );
        return Ok(());
    };
    let summary = primary;
    report.notes.push(format!(
        "Language model: {description}; {} dilemmas (the first by row order) in both orders in \
         {:.1} s ({:.2} s per dilemma){}. The top-level do_rate, n_dilemmas and position_bias \
         are its. Its do_rate is {:.4} over both orders, {:.4} with \"Action 1 = do\" and {:.4} \
         swapped; position_bias {:+.4}. The paper's single-order reading (\"Action 1 = do\" \
         only) would report a do-share of {:.4}. Its choices (do when P(do) > ½) are decided by \
         a mean margin |P(do) − ½| of {:.4}, so its value scores below flip with noise.{}{}",
        summary.n,
        asked.seconds,
        asked.seconds / summary.n.max(1) as f64,
        if asked.sampled_fallbacks > 0 {
            format!(
                "; {} orders were sampled because the model gave no readout (no logprobs)",
                asked.sampled_fallbacks
            )
        } else {
            String::new()
        },
        summary.do_rate,
        summary.do_first,
        summary.not_first,
        summary.position_bias,
        summary.single_do_share,
        summary.margin,
        summary.label_mass.map_or(String::new(), |m| format!(
            " Its mean probability mass on the tokens \"1\" and \"2\" is {m:.3} ({:.0}% of \
             orders below ½): the rest goes to other first tokens, which a greedy decode would \
             turn into NA answers.",
            100.0 * summary.low_mass_share.unwrap_or(0.0)
        )),
        if summary.samples > 0 {
            format!(
                " {} of {} sampled answers named neither action ({:.1}% NA, counted ½–½); the \
                 greedy single reading was NA for {} of {} dilemmas.",
                summary.unparseable,
                summary.samples,
                100.0 * summary.unparseable as f64 / summary.samples as f64,
                summary.single_na,
                summary.n
            )
        } else {
            String::new()
        }
    ));
    if config.chooser.model == "smollm2" {
        report.notes.push(
            "SmolLM2-135M-Instruct is a toy model: what it can show here is whether the \
             protocol, the readout and the parsing run end to end, how much of its first-token \
             mass lands on the labels, and how strongly it prefers a label regardless of the \
             action behind it (position_bias). Its do-rate and value scores say nothing about \
             the values of capable models, and nothing should be read into them."
                .into(),
        );
    }
    let mut table = Table::new(
        "Language model: answers to the first dilemmas",
        &[
            "idx",
            "P(\"1\"), Action 1 = do",
            "P(\"1\"), Action 1 = do not",
            "P(do)",
            "label mass (do / do not first)",
            "paper reading",
        ],
    );
    for (d, a) in dilemmas.iter().zip(&asked.answers).take(20) {
        let mass = |o: usize| {
            a.orders[o]
                .label_mass
                .map_or("—".into(), |m| fmt_number(m, 3))
        };
        table.push(vec![
            d.idx.to_string(),
            fmt_number(a.orders[0].p_label_one, 3),
            fmt_number(a.orders[1].p_label_one, 3),
            fmt_number(a.p_do(), 3),
            format!("{} / {}", mass(0), mass(1)),
            match a.single_reading_do {
                Some(true) => "do".into(),
                Some(false) => "do not".into(),
                None => "NA".into(),
            },
        ]);
    }
    report.tables.push(table);
    Ok(())
}
