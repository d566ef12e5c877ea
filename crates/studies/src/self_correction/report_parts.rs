//! The report of `self-correction`: metrics, tables, figures and notes of each tier, and the
//! check that the metric code recovers the simulated solver's planted rates.

use choicelab_core::Result;

use super::dialogue::{opening, review_turn, Format, REVIEW_PROMPT, SYSTEM_PROMPT};
use super::metrics::{chain_accuracy, crossings, Rate};
use super::tasks::{Gold, Item};
use super::{Config, TierRun};
use crate::chooser_setup::ChooserKind;
use crate::plot::{line_chart, Series};
use crate::report::{Figure, Report, Table};

fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", 100.0 * x)
    } else {
        "—".into()
    }
}

fn rate_cell(rate: Rate) -> String {
    format!("{} ({}/{})", pct(rate.value()), rate.hits, rate.at_risk)
}

/// A cell of a Markdown table: newlines as `<br>`, pipes escaped.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', "<br>")
}

/// The tier's metrics under `prefix` (`""` or `"sim."`).
pub fn record_metrics(report: &mut Report, prefix: &str, tier: &TierRun) {
    report.number(format!("{prefix}items"), tier.items.len() as f64);
    report.number(format!("{prefix}rounds"), tier.rounds as f64);
    for run in &tier.formats {
        let key = format!("{prefix}{}", run.format.key());
        let c = &run.curves;
        for (k, (acc, (delta, cumulative))) in c
            .accuracy
            .iter()
            .zip(c.delta().iter().zip(&c.cumulative))
            .enumerate()
        {
            report.number(format!("{key}.accuracy.r{k}"), *acc);
            report.number(format!("{key}.delta.r{k}"), *delta);
            report.number(format!("{key}.cumulative_accuracy.r{k}"), *cumulative);
        }
        for (i, ((correction, corruption), change)) in c
            .correction
            .iter()
            .zip(&c.corruption)
            .zip(&c.change)
            .enumerate()
        {
            let k = i + 1;
            report.number(format!("{key}.correction.r{k}"), correction.value());
            report.number(format!("{key}.corruption.r{k}"), corruption.value());
            report.number(format!("{key}.change.r{k}"), change.value());
        }
        report.number(format!("{key}.flip_to_wrong"), c.flip_to_wrong.value());
        report.number(format!("{key}.flip_to_right"), c.flip_to_right.value());
        report.number(format!("{key}.unparseable"), c.unparseable.value());
        report.number(format!("{key}.final_line_missing"), c.unmarked.value());
        report.number(format!("{key}.final_accuracy_ci_low"), run.final_interval.0);
        report.number(
            format!("{key}.final_accuracy_ci_high"),
            run.final_interval.1,
        );
    }
}

/// The tier's per-round and summary tables.
pub fn record_tables(report: &mut Report, tier: &TierRun) {
    let [generation, choice] = [&tier.formats[0].curves, &tier.formats[1].curves];
    let mut rounds = Table::new(
        format!(
            "{}: per round ({} items; open generation = gen, multiple choice = MC)",
            tier.label,
            tier.items.len()
        ),
        &[
            "round",
            "gen Acc",
            "MC Acc",
            "gen correction",
            "gen corruption",
            "MC correction",
            "MC corruption",
            "gen change",
            "MC change",
            "gen cumulative",
            "MC cumulative",
        ],
    );
    for k in 0..=tier.rounds {
        let transition = |rates: &[Rate]| {
            k.checked_sub(1)
                .map_or_else(|| "—".to_owned(), |i| rate_cell(rates[i]))
        };
        rounds.push(vec![
            k.to_string(),
            pct(generation.accuracy[k]),
            pct(choice.accuracy[k]),
            transition(&generation.correction),
            transition(&generation.corruption),
            transition(&choice.correction),
            transition(&choice.corruption),
            transition(&generation.change),
            transition(&choice.change),
            pct(generation.cumulative[k]),
            pct(choice.cumulative[k]),
        ]);
    }
    report.tables.push(rounds);
    let mut summary = Table::new(
        format!("{}: summary per format", tier.label),
        &[
            "format",
            "Acc_0",
            "final Acc [95% bootstrap CI]",
            "Δ_final",
            "best round",
            "flip to right (pooled)",
            "flip to wrong (pooled)",
            "unparseable",
            "no final-answer line",
        ],
    );
    for run in &tier.formats {
        let c = &run.curves;
        let best = (0..c.accuracy.len())
            .max_by(|&a, &b| c.accuracy[a].total_cmp(&c.accuracy[b]).then(b.cmp(&a)))
            .unwrap_or(0);
        summary.push(vec![
            run.format.label().into(),
            pct(c.accuracy[0]),
            format!(
                "{} [{}, {}]",
                pct(c.accuracy[tier.rounds]),
                pct(run.final_interval.0),
                pct(run.final_interval.1)
            ),
            pct(c.delta()[tier.rounds]),
            format!("{best} ({})", pct(c.accuracy[best])),
            rate_cell(c.flip_to_right),
            rate_cell(c.flip_to_wrong),
            rate_cell(c.unparseable),
            rate_cell(c.unmarked),
        ]);
    }
    report.tables.push(summary);
}

/// One planted rate against its estimate.
pub struct RateCheck {
    format: Format,
    kind: &'static str,
    round: usize,
    planted: f64,
    estimate: Rate,
    z: f64,
}

/// The simulated tier against its planted chains.
pub struct Recovery {
    checks: Vec<RateCheck>,
    max_z: f64,
    planted_crossings: Vec<usize>,
    measured_crossings: Vec<usize>,
}

impl Recovery {
    fn rates_recovered(&self, config: &Config) -> bool {
        self.max_z <= config.recovery_z
    }

    fn crossings_match(&self) -> bool {
        self.planted_crossings == self.measured_crossings
    }
}

/// Compares every recovered transition rate of the simulated tier with the planted one (z in
/// binomial standard errors at the planted rate) and the measured crossing rounds of the two
/// accuracy curves with the chain's.
pub fn recovery(sim: &TierRun, config: &Config) -> Recovery {
    let mut checks = Vec::new();
    let mut planted_curves = Vec::new();
    for run in &sim.formats {
        let rates = config.planted.of(run.format);
        let planted = &rates.correction[..sim.rounds];
        let corrupted = &rates.corruption[..sim.rounds];
        planted_curves.push(chain_accuracy(rates.initial, planted, corrupted));
        for (kind, planted, estimates) in [
            ("correction", planted, &run.curves.correction),
            ("corruption", corrupted, &run.curves.corruption),
        ] {
            for (i, (&p, &estimate)) in planted.iter().zip(estimates).enumerate() {
                let se = (p * (1.0 - p) / estimate.at_risk as f64).sqrt();
                let gap = (estimate.value() - p).abs();
                let z = match (estimate.at_risk, se > 0.0) {
                    (0, _) => 0.0,
                    (_, true) => gap / se,
                    (_, false) if gap == 0.0 => 0.0,
                    _ => f64::INFINITY,
                };
                checks.push(RateCheck {
                    format: run.format,
                    kind,
                    round: i + 1,
                    planted: p,
                    estimate,
                    z,
                });
            }
        }
    }
    let measured = [
        &sim.formats[0].curves.accuracy,
        &sim.formats[1].curves.accuracy,
    ];
    Recovery {
        max_z: checks.iter().map(|c| c.z).fold(0.0, f64::max),
        planted_crossings: crossings(&planted_curves[0], &planted_curves[1]),
        measured_crossings: crossings(measured[0], measured[1]),
        checks,
    }
}

fn rounds_list(rounds: &[usize]) -> String {
    if rounds.is_empty() {
        "none".into()
    } else {
        rounds
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The recovery table, metrics and verdict.
pub fn record_recovery(report: &mut Report, recovery: &Recovery, config: &Config) {
    let mut table = Table::new(
        "Simulated tier: planted transition rates against the metric code's estimates",
        &["format", "rate", "round", "planted", "estimate", "z"],
    );
    for check in &recovery.checks {
        table.push(vec![
            check.format.label().into(),
            check.kind.into(),
            check.round.to_string(),
            pct(check.planted),
            rate_cell(check.estimate),
            format!("{:.2}", check.z),
        ]);
    }
    report.tables.push(table);
    let rates_ok = recovery.rates_recovered(config);
    let crossings_ok = recovery.crossings_match();
    report.number("sim.check.max_z", recovery.max_z);
    report.number("sim.check.rates_recovered", f64::from(u8::from(rates_ok)));
    report.number(
        "sim.check.crossings_match",
        f64::from(u8::from(crossings_ok)),
    );
    report.text(
        "sim.check.crossings_planted",
        rounds_list(&recovery.planted_crossings),
    );
    report.text(
        "sim.check.crossings_measured",
        rounds_list(&recovery.measured_crossings),
    );
    let verdict = if rates_ok && crossings_ok {
        "pass"
    } else {
        "fail"
    };
    report.text("sim.check.verdict", verdict);
    report.notes.push(format!(
        "Simulated-tier check: **{verdict}**. The solver's correctness follows a two-state \
         chain per format (planted in `planted.*`; it reads its previous answer back from the \
         history with the study's own judge, and a wrong multiple-choice pick persists while a \
         wrong open answer is drawn afresh). All {} planted correction and corruption rates are \
         recovered within {:.2} binomial standard errors (tolerance {}: {}). The chain's \
         accuracy curves change lead at round(s) {}; the measured curves at round(s) {} ({}).",
        recovery.checks.len(),
        recovery.max_z,
        config.recovery_z,
        if rates_ok { "pass" } else { "fail" },
        rounds_list(&recovery.planted_crossings),
        rounds_list(&recovery.measured_crossings),
        if crossings_ok { "pass" } else { "fail" },
    ));
}

/// The wording of every prompt, quoted from an example item.
pub fn record_prompts(report: &mut Report, item: &Item) {
    let mut table = Table::new(
        "Prompt wording, quoted exactly (example item; every item and round uses the same frame)",
        &["part", "text"],
    );
    table.push(vec![
        "system (every conversation)".into(),
        cell(SYSTEM_PROMPT),
    ]);
    for format in Format::BOTH {
        table.push(vec![
            format!("round 0 user turn, {}", format.label()),
            cell(&opening(item, format)[1].content),
        ]);
    }
    table.push(vec![
        "rounds 1…R: previous answer as the assistant turn, then this user turn (same for both \
         formats; multiple choice restates the options)"
            .into(),
        cell(&review_turn(item, Format::Generation)),
    ]);
    report.tables.push(table);
    report.notes.push(format!(
        "Protocol: round 0 sends the system prompt and the question; each round k ≥ 1 appends \
         the model's previous answer and one fixed review turn (\"Question: …\" restated, then \
         \"{REVIEW_PROMPT}\"), so every round sees the whole history. The turn never says the \
         answer is wrong. Judging is exact: arithmetic items by the number after the last \"The \
         final answer is:\" (else the last number of the answer); factual items (capitals, \
         chemical symbols, weekday and month arithmetic) when that text names the gold (or an \
         alias) and none of the item's three distractors; multiple choice by the letter there \
         (else the letter anywhere, else the single option text named). An unreadable answer \
         counts as wrong and as unparseable. Gold positions are dealt evenly over A–D and \
         shuffled with the seed, so position bias cannot pose as inertia."
    ));
}

fn points(values: &[f64], first_round: usize) -> Vec<(f64, f64)> {
    values
        .iter()
        .enumerate()
        .filter(|(_, y)| y.is_finite())
        .map(|(k, &y)| ((k + first_round) as f64, y))
        .collect()
}

fn flips_figure(tier: &TierRun, file: &str) -> Result<Figure> {
    let mut series = Vec::new();
    for run in &tier.formats {
        for (kind, rates) in [
            ("correction", &run.curves.correction),
            ("corruption", &run.curves.corruption),
        ] {
            let values: Vec<f64> = rates.iter().map(|r| r.value()).collect();
            series.push(Series {
                name: format!("{} {kind}", run.format.label()),
                points: points(&values, 1),
            });
        }
    }
    let title = format!("Correction and corruption rates per round: {}", tier.label);
    Ok(Figure {
        file: file.into(),
        svg: line_chart(&title, "round k", "rate", &series, false)?,
        title,
    })
}

/// The accuracy figure of every tier and the flip-rate figure of each.
pub fn record_figures(
    report: &mut Report,
    sim: &TierRun,
    config: &Config,
    llm: Option<&TierRun>,
) -> Result<()> {
    let mut series = Vec::new();
    for tier in std::iter::once(sim).chain(llm) {
        for run in &tier.formats {
            series.push(Series {
                name: format!("{}: {}", tier.label, run.format.label()),
                points: points(&run.curves.accuracy, 0),
            });
        }
    }
    for format in Format::BOTH {
        let rates = config.planted.of(format);
        let curve = chain_accuracy(
            rates.initial,
            &rates.correction[..sim.rounds],
            &rates.corruption[..sim.rounds],
        );
        series.push(Series {
            name: format!("planted chain: {}", format.label()),
            points: points(&curve, 0),
        });
    }
    let title = "Accuracy per round, open generation against multiple choice";
    report.figures.push(Figure {
        file: "accuracy.svg".into(),
        title: title.into(),
        svg: line_chart(title, "round k", "accuracy", &series, false)?,
    });
    report.figures.push(flips_figure(sim, "flips-sim.svg")?);
    if let Some(llm) = llm {
        report.figures.push(flips_figure(llm, "flips-llm.svg")?);
    }
    Ok(())
}

fn gold_text(item: &Item) -> String {
    match &item.gold {
        Gold::Number(x) => x.to_string(),
        Gold::Text { canonical, .. } => canonical.clone(),
    }
}

/// Each language-model item's answers round by round.
pub fn record_llm_items(report: &mut Report, tier: &TierRun) {
    let mut table = Table::new(
        format!(
            "{}: answers per item and round (✓ right, ✗ wrong)",
            tier.label
        ),
        &["item", "gold", "format", "answers, round 0 → R"],
    );
    for (i, item) in tier.items.iter().enumerate() {
        for run in &tier.formats {
            let answers: Vec<String> = run.dialogues[i]
                .rounds
                .iter()
                .map(|judged| {
                    let shown = judged.answer.as_deref().unwrap_or("unreadable");
                    let shown: String = shown.chars().take(40).collect();
                    format!("{} {}", shown, if judged.correct { "✓" } else { "✗" })
                })
                .collect();
            table.push(vec![
                cell(&item.question),
                cell(&gold_text(item)),
                run.format.label().into(),
                cell(&answers.join(" → ")),
            ]);
        }
    }
    report.tables.push(table);
}

/// The first item's full conversation in both formats.
pub fn record_example(report: &mut Report, tier: &TierRun) {
    let mut table = Table::new(
        format!("{}: the first item's conversations, verbatim", tier.label),
        &["format", "turn", "role", "text"],
    );
    for run in &tier.formats {
        for (turn, message) in run.dialogues[0].messages.iter().enumerate().skip(1) {
            table.push(vec![
                run.format.label().into(),
                turn.to_string(),
                message.role.as_str().into(),
                cell(&message.content),
            ]);
        }
    }
    report.tables.push(table);
}

/// What the language-model tier ran and what it can show.
pub fn llm_notes(report: &mut Report, tier: &TierRun, description: &str, config: &Config) {
    let tokens: usize = tier
        .formats
        .iter()
        .flat_map(|run| &run.dialogues)
        .map(|d| d.completion_tokens)
        .sum();
    let answers = tier.items.len() * tier.formats.len() * (tier.rounds + 1);
    report.number("llm.answers", answers as f64);
    report.number("llm.completion_tokens", tokens as f64);
    let summary: Vec<String> = tier
        .formats
        .iter()
        .map(|run| {
            let c = &run.curves;
            let curve: Vec<String> = c.accuracy.iter().map(|&a| pct(a)).collect();
            format!(
                "{}: accuracy {} by round, flips to right {}, to wrong {}, unparseable {}, \
                 without the final-answer line {}",
                run.format.label(),
                curve.join(" → "),
                rate_cell(c.flip_to_right),
                rate_cell(c.flip_to_wrong),
                rate_cell(c.unparseable),
                rate_cell(c.unmarked)
            )
        })
        .collect();
    report.notes.push(format!(
        "Language-model tier ({description}): {} items × 2 formats × {} rounds = {answers} \
         answers, {tokens} tokens written, at most {} tokens each, temperature {}, in {:.1} s. \
         The unprefixed metrics (`generation.accuracy.r<k>`, …) are this tier's; the simulated \
         tier's are under `sim.`. {}.",
        tier.items.len(),
        tier.rounds + 1,
        config.llm.max_tokens,
        config.llm.temperature,
        tier.seconds,
        summary.join("; ")
    ));
    let toy = config.chooser.kind == ChooserKind::Local && config.chooser.model == "smollm2";
    report.notes.push(if toy {
        format!(
            "SmolLM2-135M is a toy model: on {} items its accuracies and flip rates mean \
             nothing about the paper's claim (the paper's smallest model has 1.7B parameters, \
             and a handful of items gives intervals tens of points wide). What this tier shows \
             is that the loop runs on a real model end to end: the history grows turn by turn, \
             the options are shown under permuted letters, and answers are parsed and judged \
             (see the unparseable rates and the verbatim conversation). Answers cut off at {} \
             tokens may lack the final-answer line; the whole text is then read, so a number \
             restated from the question can pass for the answer (the share without the line is \
             reported as `final_line_missing`).",
            tier.items.len(),
            config.llm.max_tokens
        )
    } else {
        format!(
            "With {} items the language model's curves carry wide intervals (see the bootstrap \
             columns); the paper's comparison needs its datasets and several model sizes.",
            tier.items.len()
        )
    });
}
