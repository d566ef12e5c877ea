//! The protocols that put questions to a chat model and read its answers: pairwise choice
//! (lettered A/B), multiple choice (lettered A, B, C, …) and open generation with a parser.
//! The wording is choicelab's own; each study's report quotes it.

use crate::chat::Message;

/// The letters options are shown under.
pub const LETTERS: [&str; 8] = ["A", "B", "C", "D", "E", "F", "G", "H"];

/// The question asking a chooser to pick one of lettered options.
pub fn lettered_question(preamble: &str, options: &[&str]) -> Vec<Message> {
    let mut text = String::from(preamble.trim_end());
    text.push_str("\n\n");
    for (letter, option) in LETTERS.iter().zip(options) {
        text.push_str(&format!("{letter}. {option}\n"));
    }
    let letters = &LETTERS[..options.len().min(LETTERS.len())];
    let choices = match letters {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    text.push_str(&format!("\nAnswer with the letter only: {choices}."));
    vec![Message::user(text)]
}

/// The option an answer names, as an index into `n` lettered options; None when the answer
/// names none, or names more than one.
///
/// Accepted: the letter alone or leading the answer ("B", "B.", "(B)", "**B**", "B) tea",
/// "Option B", "Answer: B"), or exactly one distinct "option X" / "answer is X" inside the
/// answer. A leading "A" followed by a lower-case word is read as the article, not an option.
pub fn parse_letter(answer: &str, n: usize) -> Option<usize> {
    let n = n.min(LETTERS.len());
    let letter_index = |c: char| {
        let i = (c as usize).wrapping_sub('A' as usize);
        (i < n).then_some(i)
    };
    let trimmed = strip_lead_in(answer);
    let mut chars = trimmed.chars();
    if let Some(first) = chars.next() {
        if let Some(index) = letter_index(first) {
            let rest = chars.as_str();
            let next = rest.chars().next();
            let article = first == 'A'
                && next == Some(' ')
                && rest
                    .trim_start()
                    .chars()
                    .next()
                    .is_some_and(char::is_lowercase);
            let ends_token = next.is_none_or(|c| !c.is_alphanumeric());
            if ends_token && !article {
                return Some(index);
            }
        }
    }
    // Fall back to explicit mentions inside the answer.
    let lower = answer.to_lowercase();
    let mut named: Vec<usize> = Vec::new();
    for cue in ["option ", "answer is ", "answer: ", "choose ", "choice is "] {
        for (at, _) in lower.match_indices(cue) {
            let after = &answer[at + cue.len()..];
            let after = after.trim_start_matches(['(', '*', '"', '\'', ' ']);
            let mut it = after.chars();
            if let Some(index) = it.next().and_then(letter_index) {
                if it.next().is_none_or(|c| !c.is_alphanumeric()) && !named.contains(&index) {
                    named.push(index);
                }
            }
        }
    }
    match named.as_slice() {
        [only] => Some(*only),
        _ => None,
    }
}

/// The answer with leading markup and lead-in words removed ("**", "(", "Answer:", "Option").
fn strip_lead_in(answer: &str) -> &str {
    let mut text = answer.trim_start();
    loop {
        let before = text;
        text = text.trim_start_matches(['*', '(', '[', '"', '\'', '`', ' ', '\n', '\t']);
        for lead in [
            "Answer:",
            "answer:",
            "Answer is",
            "Option",
            "option",
            "Letter:",
        ] {
            if let Some(rest) = text.strip_prefix(lead) {
                text = rest;
            }
        }
        if text == before {
            return text;
        }
    }
}

/// The number an open answer gives: the last number in it ("… so the answer is 42."), with
/// thousands separators removed; None when it has none.
pub fn parse_number(answer: &str) -> Option<f64> {
    let mut last = None;
    let mut current = String::new();
    let flush = |current: &mut String, last: &mut Option<f64>| {
        let cleaned = current.trim_end_matches(['.', ',']).replace(',', "");
        if let Ok(value) = cleaned.parse::<f64>() {
            *last = Some(value);
        }
        current.clear();
    };
    let chars: Vec<char> = answer.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let starts_negative =
            c == '-' && current.is_empty() && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        let inside = !current.is_empty()
            && (c == '.' || c == ',')
            && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if c.is_ascii_digit() || starts_negative || inside {
            current.push(c);
        } else if !current.is_empty() {
            flush(&mut current, &mut last);
        }
    }
    if !current.is_empty() {
        flush(&mut current, &mut last);
    }
    last
}

/// Whether an open answer contains `expected` as a whole word or phrase, ignoring case.
pub fn mentions(answer: &str, expected: &str) -> bool {
    let answer = answer.to_lowercase();
    let expected = expected.to_lowercase();
    answer.match_indices(&expected).any(|(at, _)| {
        let before = answer[..at].chars().next_back();
        let after = answer[at + expected.len()..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_are_read_in_the_forms_models_write_them() {
        for (answer, expected) in [
            ("B", Some(1)),
            ("A.", Some(0)),
            ("(B)", Some(1)),
            ("**A**", Some(0)),
            ("B) a cup of tea", Some(1)),
            ("Option B", Some(1)),
            ("Answer: A", Some(0)),
            ("I would choose option B because it is warm.", Some(1)),
            ("The answer is A.", Some(0)),
            ("A sunny day is nicer.", None),
            ("Both option A and option B are fine.", None),
            ("C", None),
            ("", None),
            ("Banana", None),
        ] {
            assert_eq!(parse_letter(answer, 2), expected, "{answer:?}");
        }
        assert_eq!(parse_letter("C", 4), Some(2));
        assert_eq!(parse_letter("D: Paris", 4), Some(3));
    }

    #[test]
    fn the_question_lists_options_under_letters() {
        let messages = lettered_question("Which is larger?", &["7", "9", "3"]);
        assert_eq!(
            messages[0].content,
            "Which is larger?\n\nA. 7\nB. 9\nC. 3\n\nAnswer with the letter only: A, B or C."
        );
    }

    #[test]
    fn numbers_are_read_from_the_end_of_an_open_answer() {
        assert_eq!(parse_number("3 apples and 4 pears make 7."), Some(7.0));
        assert_eq!(parse_number("It costs 1,250 dollars"), Some(1250.0));
        assert_eq!(parse_number("The result is -12"), Some(-12.0));
        assert_eq!(parse_number("about 2.5 hours."), Some(2.5));
        assert_eq!(parse_number("no idea"), None);
        assert!(mentions("The capital is Paris.", "paris"));
        assert!(!mentions("Parisian food", "Paris"));
    }
}
