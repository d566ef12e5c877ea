//! The seeded task bank: arithmetic word problems with integer answers and short factual
//! questions from fixed tables, each also rendered as four-option multiple choice with the
//! gold position balanced across items.

use std::collections::HashSet;

use choicelab_core::{stream_rng, Rng};
use rand::seq::SliceRandom;
use rand::RngExt;

/// Options of every multiple-choice rendering.
pub const OPTIONS: usize = 4;

/// What a correct answer is.
#[derive(Debug, Clone, PartialEq)]
pub enum Gold {
    /// An integer, judged by exact equality with the number the answer gives.
    Number(i64),
    /// A canonical string and its aliases, judged by whole-word mention.
    Text {
        /// The canonical answer.
        canonical: String,
        /// Other spellings that count as the same answer.
        aliases: Vec<String>,
    },
}

/// One item of the bank, in both formats.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Which family it comes from (`arithmetic`, `capital`, `symbol`, `weekday`, `month`).
    pub family: &'static str,
    /// The open question.
    pub question: String,
    /// The correct answer.
    pub gold: Gold,
    /// The four options of the multiple-choice rendering, in the order shown.
    pub options: Vec<String>,
    /// Where the gold sits among `options`.
    pub gold_index: usize,
}

impl Item {
    /// The wrong options, in the order shown.
    pub fn distractors(&self) -> impl Iterator<Item = &String> {
        self.options
            .iter()
            .enumerate()
            .filter(move |(i, _)| *i != self.gold_index)
            .map(|(_, option)| option)
    }
}

/// (country, capital, aliases of the capital).
const CAPITALS: [(&str, &str, &[&str]); 30] = [
    ("France", "Paris", &[]),
    ("Germany", "Berlin", &[]),
    ("Italy", "Rome", &[]),
    ("Spain", "Madrid", &[]),
    ("Portugal", "Lisbon", &[]),
    ("Japan", "Tokyo", &[]),
    ("China", "Beijing", &["Peking"]),
    ("Egypt", "Cairo", &[]),
    ("Kenya", "Nairobi", &[]),
    ("Canada", "Ottawa", &[]),
    ("Australia", "Canberra", &[]),
    ("Brazil", "Brasília", &["Brasilia"]),
    ("Argentina", "Buenos Aires", &[]),
    ("Peru", "Lima", &[]),
    ("Russia", "Moscow", &[]),
    ("Greece", "Athens", &[]),
    ("Norway", "Oslo", &[]),
    ("Sweden", "Stockholm", &[]),
    ("Finland", "Helsinki", &[]),
    ("Poland", "Warsaw", &[]),
    ("Austria", "Vienna", &[]),
    ("Hungary", "Budapest", &[]),
    ("Ireland", "Dublin", &[]),
    ("India", "New Delhi", &[]),
    ("Thailand", "Bangkok", &[]),
    ("Turkey", "Ankara", &[]),
    ("Mexico", "Mexico City", &[]),
    ("Chile", "Santiago", &[]),
    ("Cuba", "Havana", &[]),
    ("Vietnam", "Hanoi", &[]),
];

/// (element, symbol): two-letter symbols only, none an English word ("He", "Al" left out),
/// so a whole-word mention is the symbol.
const SYMBOLS: [(&str, &str); 17] = [
    ("gold", "Au"),
    ("silver", "Ag"),
    ("iron", "Fe"),
    ("copper", "Cu"),
    ("sodium", "Na"),
    ("lead", "Pb"),
    ("tin", "Sn"),
    ("mercury", "Hg"),
    ("zinc", "Zn"),
    ("calcium", "Ca"),
    ("magnesium", "Mg"),
    ("neon", "Ne"),
    ("chlorine", "Cl"),
    ("lithium", "Li"),
    ("nickel", "Ni"),
    ("platinum", "Pt"),
    ("silicon", "Si"),
];

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// "May" is also an English verb, so a whole-word check cannot tell it from "you may": it is
/// never a month question's answer or distractor.
const AMBIGUOUS_MONTH: &str = "May";

const NAMES: [&str; 8] = ["Sam", "Maria", "Ali", "Lena", "Tom", "Aiko", "Omar", "Nina"];
const THINGS: [&str; 6] = ["apples", "pencils", "stickers", "marbles", "cards", "books"];

/// A factual question before its options are drawn: the family, the question, the gold and
/// the pool of wrong answers of the same family.
struct Fact {
    family: &'static str,
    question: String,
    canonical: String,
    aliases: Vec<String>,
    wrong: Vec<String>,
}

/// Every factual question of the built-in tables.
fn facts() -> Vec<Fact> {
    let mut facts = Vec::new();
    for (country, capital, aliases) in CAPITALS {
        facts.push(Fact {
            family: "capital",
            question: format!("What is the capital of {country}?"),
            canonical: capital.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            wrong: CAPITALS
                .iter()
                .filter(|other| other.1 != capital)
                .map(|other| other.1.to_string())
                .collect(),
        });
    }
    for (element, symbol) in SYMBOLS {
        facts.push(Fact {
            family: "symbol",
            question: format!("What is the chemical symbol of {element}?"),
            canonical: symbol.into(),
            aliases: Vec::new(),
            wrong: SYMBOLS
                .iter()
                .filter(|other| other.1 != symbol)
                .map(|other| other.1.to_string())
                .collect(),
        });
    }
    for (start, day) in WEEKDAYS.iter().enumerate() {
        for offset in 1..WEEKDAYS.len() {
            let gold = WEEKDAYS[(start + offset) % WEEKDAYS.len()];
            facts.push(Fact {
                family: "weekday",
                question: format!(
                    "What day of the week is it {offset} day{} after {day}?",
                    plural(offset)
                ),
                canonical: gold.into(),
                aliases: Vec::new(),
                wrong: WEEKDAYS
                    .iter()
                    .filter(|d| **d != gold && d != &day)
                    .map(|d| d.to_string())
                    .collect(),
            });
        }
    }
    for (start, month) in MONTHS.iter().enumerate() {
        for offset in 1..MONTHS.len() {
            let gold = MONTHS[(start + offset) % MONTHS.len()];
            if gold == AMBIGUOUS_MONTH {
                continue;
            }
            facts.push(Fact {
                family: "month",
                question: format!(
                    "Which month comes {offset} month{} after {month}?",
                    plural(offset)
                ),
                canonical: gold.into(),
                aliases: Vec::new(),
                wrong: MONTHS
                    .iter()
                    .filter(|m| **m != gold && m != &month && **m != AMBIGUOUS_MONTH)
                    .map(|m| m.to_string())
                    .collect(),
            });
        }
    }
    facts
}

fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

/// The arithmetic templates: each turns operands into a question and its answer.
#[derive(Debug, Clone, Copy)]
pub enum Arithmetic {
    /// a + b.
    Buys,
    /// a − b (a > b).
    GivesAway,
    /// a × b.
    Boxes,
    /// (a·b) ÷ b.
    Shares,
    /// a × b − c (c < a·b).
    PacksThenGives,
}

impl Arithmetic {
    const ALL: [Arithmetic; 5] = [
        Arithmetic::Buys,
        Arithmetic::GivesAway,
        Arithmetic::Boxes,
        Arithmetic::Shares,
        Arithmetic::PacksThenGives,
    ];

    /// The question about `name` and `things` with operands a, b, c, and its answer.
    pub fn render(self, name: &str, things: &str, a: i64, b: i64, c: i64) -> (String, i64) {
        match self {
            Self::Buys => (
                format!(
                    "{name} has {a} {things} and buys {b} more. How many {things} does {name} \
                     have now?"
                ),
                a + b,
            ),
            Self::GivesAway => (
                format!(
                    "{name} had {a} {things} and gave {b} of them away. How many {things} does \
                     {name} have left?"
                ),
                a - b,
            ),
            Self::Boxes => (
                format!("A box holds {a} {things}. How many {things} are in {b} boxes?"),
                a * b,
            ),
            Self::Shares => (
                format!(
                    "{} {things} are shared equally among {b} friends. How many {things} does \
                     each friend get?",
                    a * b
                ),
                a,
            ),
            Self::PacksThenGives => (
                format!(
                    "{name} buys {b} packs of {a} {things} and then gives {c} {things} away. How \
                     many {things} does {name} have left?"
                ),
                a * b - c,
            ),
        }
    }

    /// Operands drawn so that the answer is a positive integer of a few digits.
    fn draw(self, rng: &mut Rng) -> (i64, i64, i64) {
        match self {
            Self::Buys => (rng.random_range(12..90), rng.random_range(5..60), 0),
            Self::GivesAway => {
                let a = rng.random_range(30..99);
                (a, rng.random_range(5..a - 3), 0)
            }
            Self::Boxes | Self::Shares => (rng.random_range(3..13), rng.random_range(2..10), 0),
            Self::PacksThenGives => {
                let (a, b) = (rng.random_range(4..13), rng.random_range(2..8));
                (a, b, rng.random_range(1..a * b - 1))
            }
        }
    }
}

/// Wrong numbers near `gold` (±1, ±2, ±10, never negative).
fn nearby_numbers(gold: i64) -> Vec<String> {
    [-10, -2, -1, 1, 2, 10]
        .iter()
        .map(|d| gold + d)
        .filter(|&x| x >= 0)
        .map(|x| x.to_string())
        .collect()
}

/// A bank of `count` distinct items drawn with `seed`: arithmetic and factual questions
/// alternate while the factual tables last (then arithmetic only); gold positions are dealt
/// evenly over the four places and shuffled, the distractors are shuffled per item.
pub fn task_bank(count: usize, seed: u64) -> Vec<Item> {
    let mut rng = stream_rng(seed, 0x7a5c);
    let mut facts = facts();
    facts.shuffle(&mut rng);
    let mut facts = facts.into_iter();
    let mut positions: Vec<usize> = (0..count).map(|i| i % OPTIONS).collect();
    positions.shuffle(&mut rng);
    let mut seen = HashSet::new();
    let mut items = Vec::with_capacity(count);
    for (i, &gold_index) in positions.iter().enumerate() {
        let fact = if i % 2 == 1 { facts.next() } else { None };
        let (family, question, gold, canonical, mut wrong) = match fact {
            Some(fact) => (
                fact.family,
                fact.question,
                Gold::Text {
                    canonical: fact.canonical.clone(),
                    aliases: fact.aliases,
                },
                fact.canonical,
                fact.wrong,
            ),
            None => loop {
                let template = Arithmetic::ALL[rng.random_range(0..Arithmetic::ALL.len())];
                let name = NAMES[rng.random_range(0..NAMES.len())];
                let things = THINGS[rng.random_range(0..THINGS.len())];
                let (a, b, c) = template.draw(&mut rng);
                let (question, answer) = template.render(name, things, a, b, c);
                if !seen.contains(&question) {
                    break (
                        "arithmetic",
                        question,
                        Gold::Number(answer),
                        answer.to_string(),
                        nearby_numbers(answer),
                    );
                }
            },
        };
        seen.insert(question.clone());
        wrong.shuffle(&mut rng);
        let mut options: Vec<String> = wrong.into_iter().take(OPTIONS - 1).collect();
        options.insert(gold_index, canonical);
        items.push(Item {
            family,
            question,
            gold,
            options,
            gold_index,
        });
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_templates_compute_their_answers() {
        let cases = [
            (Arithmetic::Buys, (23, 9, 0), 32),
            (Arithmetic::GivesAway, (40, 15, 0), 25),
            (Arithmetic::Boxes, (7, 6, 0), 42),
            (Arithmetic::Shares, (8, 3, 0), 8),
            (Arithmetic::PacksThenGives, (6, 4, 5), 19),
        ];
        for (template, (a, b, c), expected) in cases {
            let (question, answer) = template.render("Sam", "apples", a, b, c);
            assert_eq!(answer, expected, "{question}");
        }
        let (question, _) = Arithmetic::Shares.render("Sam", "cards", 8, 3, 0);
        assert!(question.starts_with("24 cards are shared equally among 3 friends"));
    }

    #[test]
    fn the_fact_tables_give_the_right_answers() {
        let all = facts();
        let answer = |q: &str| {
            all.iter()
                .find(|f| f.question == q)
                .map(|f| f.canonical.clone())
                .unwrap_or_else(|| panic!("no question {q:?}"))
        };
        assert_eq!(answer("What is the capital of Kenya?"), "Nairobi");
        assert_eq!(answer("What is the chemical symbol of iron?"), "Fe");
        assert_eq!(
            answer("What day of the week is it 3 days after Monday?"),
            "Thursday"
        );
        assert_eq!(
            answer("What day of the week is it 2 days after Saturday?"),
            "Monday"
        );
        assert_eq!(
            answer("Which month comes 5 months after September?"),
            "February"
        );
        assert!(all
            .iter()
            .all(|f| f.canonical != AMBIGUOUS_MONTH && !f.wrong.contains(&f.canonical)));
    }

    #[test]
    fn options_hold_the_gold_once_and_its_position_is_balanced() {
        let bank = task_bank(400, 3);
        let questions: HashSet<_> = bank.iter().map(|item| item.question.as_str()).collect();
        assert_eq!(questions.len(), bank.len(), "questions are distinct");
        let mut counts = [0; OPTIONS];
        for item in &bank {
            let gold = match &item.gold {
                Gold::Number(x) => x.to_string(),
                Gold::Text { canonical, .. } => canonical.clone(),
            };
            assert_eq!(item.options.len(), OPTIONS);
            assert_eq!(item.options[item.gold_index], gold, "{item:?}");
            assert_eq!(item.options.iter().filter(|o| **o == gold).count(), 1);
            let distinct: HashSet<_> = item.options.iter().collect();
            assert_eq!(distinct.len(), OPTIONS, "{item:?}");
            counts[item.gold_index] += 1;
        }
        assert_eq!(counts, [100; OPTIONS]);
        let families: HashSet<_> = bank.iter().map(|item| item.family).collect();
        assert_eq!(families.len(), 5, "{families:?}");
        assert_eq!(task_bank(400, 3), bank, "the seed fixes the bank");
        assert_ne!(task_bank(400, 4), bank);
    }
}
