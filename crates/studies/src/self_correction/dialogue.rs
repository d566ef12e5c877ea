//! The self-correction loop: the prompts, the fixed review turn, the judge of each answer, and
//! the dialogues run round by round with the whole history in context.

use choicelab_agents::protocol::{mentions, parse_letter, parse_number, LETTERS};
use choicelab_agents::{ChatModel, Message, Sampling};
use choicelab_core::Result;

use super::tasks::{Gold, Item};

/// How an item is put to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A free-form answer.
    Generation,
    /// One of four lettered options.
    MultipleChoice,
}

impl Format {
    /// Both formats, in report order.
    pub const BOTH: [Format; 2] = [Format::Generation, Format::MultipleChoice];

    /// The metric prefix (`generation`, `multiple_choice`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Generation => "generation",
            Self::MultipleChoice => "multiple_choice",
        }
    }

    /// The name in tables and legends.
    pub fn label(self) -> &'static str {
        match self {
            Self::Generation => "open generation",
            Self::MultipleChoice => "multiple choice",
        }
    }
}

/// The system prompt, first in every conversation so its attention cache is shared.
pub const SYSTEM_PROMPT: &str = "You answer questions. Think briefly, then end your response \
with \"The final answer is:\" followed by your answer.";

/// The line closing a multiple-choice question.
pub const CHOOSE_LINE: &str = "Choose one option and give its letter.";

/// The review turn after the restated question: the same for both formats, with no hint
/// about correctness.
pub const REVIEW_PROMPT: &str = "Review your previous response to this question and give your \
final answer. End your response with \"The final answer is:\" followed by your answer.";

/// The marker the answer is read after.
const FINAL_MARKER: &str = "the final answer is";

/// The question as shown in `format`.
pub fn question_text(item: &Item, format: Format) -> String {
    match format {
        Format::Generation => item.question.clone(),
        Format::MultipleChoice => {
            let mut text = format!("{}\n\n", item.question);
            for (letter, option) in LETTERS.iter().zip(&item.options) {
                text.push_str(&format!("{letter}. {option}\n"));
            }
            text.push('\n');
            text.push_str(CHOOSE_LINE);
            text
        }
    }
}

/// The review turn of round k ≥ 1: the question restated, then the fixed review request.
pub fn review_turn(item: &Item, format: Format) -> String {
    format!(
        "Question: {}\n\n{REVIEW_PROMPT}",
        question_text(item, format)
    )
}

/// The opening of a conversation: the system prompt and the question.
pub fn opening(item: &Item, format: Format) -> Vec<Message> {
    vec![
        Message::system(SYSTEM_PROMPT),
        Message::user(question_text(item, format)),
    ]
}

/// The part of an answer after its last "The final answer is:" and whether there was one,
/// or all of it.
pub fn final_part(answer: &str) -> (&str, bool) {
    let lower = answer.to_lowercase();
    // Lower-casing keeps byte offsets for ASCII; fall back to the whole answer otherwise.
    match lower.rfind(FINAL_MARKER) {
        Some(at) if lower.len() == answer.len() => (
            answer[at + FINAL_MARKER.len()..]
                .trim_start_matches([':', ' ', '*', '\n'])
                .trim(),
            true,
        ),
        _ => (answer.trim(), false),
    }
}

/// One answer, judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// Whether it is right.
    pub correct: bool,
    /// Whether an answer could be read from it at all (a number, a non-empty text, an option).
    pub parsed: bool,
    /// What it answers, normalised, to tell whether the answer changed between rounds.
    pub answer: Option<String>,
    /// Whether it has the "The final answer is:" line (else the whole text was read).
    pub marked: bool,
}

/// Judges `text` as an answer to `item` in `format`.
///
/// Generation: a numeric item is right when the number after the marker (else the last
/// number) equals the gold; a factual item when that text names the gold or an alias and
/// none of the item's three distractors. Multiple choice: the letter after the marker (else
/// anywhere `parse_letter` finds one), or, failing a letter, the one option whose text is
/// named; it is right when that option is the gold.
pub fn judge(item: &Item, format: Format, text: &str) -> Judged {
    let (part, marked) = final_part(text);
    let (correct, parsed, answer) = match (format, &item.gold) {
        (Format::Generation, Gold::Number(gold)) => {
            let number = parse_number(part);
            (
                number == Some(*gold as f64),
                number.is_some(),
                number.map(|x| x.to_string()),
            )
        }
        (Format::Generation, Gold::Text { canonical, aliases }) => {
            let names_gold = std::iter::once(canonical)
                .chain(aliases)
                .any(|name| mentions(part, name));
            let names_wrong = item.distractors().any(|name| mentions(part, name));
            let correct = names_gold && !names_wrong;
            let answer = if correct {
                Some(canonical.to_lowercase())
            } else {
                (!part.is_empty()).then(|| part.to_lowercase())
            };
            (correct, !part.is_empty(), answer)
        }
        (Format::MultipleChoice, _) => {
            let named = || {
                let named: Vec<usize> = (0..item.options.len())
                    .filter(|&i| mentions(part, &item.options[i]))
                    .collect();
                (named.len() == 1).then(|| named[0])
            };
            let choice = parse_letter(part, item.options.len())
                .or_else(|| parse_letter(text, item.options.len()))
                .or_else(named);
            (
                choice == Some(item.gold_index),
                choice.is_some(),
                choice.map(|i| item.options[i].clone()),
            )
        }
    };
    Judged {
        correct,
        parsed,
        answer,
        marked,
    }
}

/// One item's conversation in one format, and its judged answers so far.
#[derive(Debug, Clone)]
pub struct Dialogue {
    /// The messages so far (ending with the model's last answer once a round is done).
    pub messages: Vec<Message>,
    /// The judged answer of each round done.
    pub rounds: Vec<Judged>,
    /// Tokens the model wrote over all rounds.
    pub completion_tokens: usize,
}

/// How the rounds are scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Every conversation's round k together (an endpoint asks them concurrently).
    RoundByRound,
    /// One conversation through all its rounds, then the next: a local model then re-reads
    /// only the new turns, since it keeps the attention cache of the previous prompt.
    ItemByItem,
}

/// Runs rounds 0..=`rounds` of `format` on every item: round 0 asks the question; each later
/// round appends the previous answer and the review turn. `after_round` hears each finished
/// round (round, conversations done).
pub fn run_dialogues(
    model: &mut dyn ChatModel,
    items: &[Item],
    format: Format,
    rounds: usize,
    sampling: &Sampling,
    schedule: Schedule,
    after_round: &mut dyn FnMut(usize, usize),
) -> Result<Vec<Dialogue>> {
    let mut dialogues: Vec<Dialogue> = items
        .iter()
        .map(|item| Dialogue {
            messages: opening(item, format),
            rounds: Vec::new(),
            completion_tokens: 0,
        })
        .collect();
    let batches: Vec<Vec<usize>> = match schedule {
        Schedule::RoundByRound => vec![(0..items.len()).collect()],
        Schedule::ItemByItem => (0..items.len()).map(|i| vec![i]).collect(),
    };
    for batch in batches {
        for round in 0..=rounds {
            let conversations: Vec<Vec<Message>> = batch
                .iter()
                .map(|&i| {
                    let mut messages = dialogues[i].messages.clone();
                    if round > 0 {
                        messages.push(Message::user(review_turn(&items[i], format)));
                    }
                    messages
                })
                .collect();
            let answers = model.generate_many(&conversations, sampling, 1);
            for ((&i, mut messages), answer) in batch.iter().zip(conversations).zip(answers) {
                // A model that returns no answer is read as an empty (unparseable) one.
                let (text, tokens) = answer?
                    .into_iter()
                    .next()
                    .map_or((String::new(), 0), |g| (g.text, g.completion_tokens));
                let dialogue = &mut dialogues[i];
                dialogue.rounds.push(judge(&items[i], format, &text));
                dialogue.completion_tokens += tokens;
                messages.push(Message::assistant(text));
                dialogue.messages = messages;
            }
            after_round(round, batch.len());
        }
    }
    Ok(dialogues)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_item() -> Item {
        Item {
            family: "arithmetic",
            question: "A box holds 7 cards. How many cards are in 6 boxes?".into(),
            gold: Gold::Number(42),
            options: vec!["41".into(), "42".into(), "52".into(), "44".into()],
            gold_index: 1,
        }
    }

    fn capital_item() -> Item {
        Item {
            family: "capital",
            question: "What is the capital of China?".into(),
            gold: Gold::Text {
                canonical: "Beijing".into(),
                aliases: vec!["Peking".into()],
            },
            options: vec![
                "Tokyo".into(),
                "Hanoi".into(),
                "Seoul".into(),
                "Beijing".into(),
            ],
            gold_index: 3,
        }
    }

    #[test]
    fn open_answers_are_judged_after_the_marker() {
        let item = numeric_item();
        let judged = judge(
            &item,
            Format::Generation,
            "7 × 6 = 42.\nThe final answer is: 42",
        );
        assert!(judged.correct && judged.parsed && judged.marked);
        let judged = judge(
            &item,
            Format::Generation,
            "The final answer is: 41.\nOn review, the final answer is: 40",
        );
        assert!(!judged.correct, "the last marker counts");
        assert_eq!(judged.answer.as_deref(), Some("40"));
        let judged = judge(&item, Format::Generation, "I am not sure.");
        assert!(!judged.parsed && !judged.marked);
        let item = capital_item();
        assert!(judge(&item, Format::Generation, "The final answer is: Peking").correct);
        assert!(!judge(&item, Format::Generation, "Beijing or Tokyo").correct);
        assert!(judge(&item, Format::Generation, "It is Beijing.").correct);
    }

    #[test]
    fn letters_and_option_texts_are_read_for_multiple_choice() {
        let item = capital_item();
        let read = |text: &str| judge(&item, Format::MultipleChoice, text);
        assert!(read("The final answer is: D").correct);
        assert!(read("D. Beijing").correct);
        assert_eq!(
            read("The final answer is: A").answer.as_deref(),
            Some("Tokyo")
        );
        assert!(read("The final answer is: Beijing").correct);
        assert!(!read("Tokyo or Hanoi").parsed);
    }

    #[test]
    fn the_review_turn_restates_the_question_and_hints_nothing() {
        let item = capital_item();
        let turn = review_turn(&item, Format::MultipleChoice);
        assert!(turn.starts_with("Question: What is the capital of China?\n\nA. Tokyo\n"));
        assert!(turn.ends_with(REVIEW_PROMPT));
        for hint in ["wrong", "mistake", "incorrect", "error"] {
            assert!(!turn.to_lowercase().contains(hint), "{hint}");
        }
    }
}
