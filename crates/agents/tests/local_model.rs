//! The embedded model on the real SmolLM2 file. Where the file is absent these tests say so and
//! pass, unless `CHOICELAB_REQUIRE_MODELS` is set (CI sets it, after fetching the model).

use std::io::Write;

use choicelab_agents::{find_model, ChatModel, LocalModel, Message, Sampling, SMOLLM2};

fn smollm2() -> Option<LocalModel> {
    let Some(path) = find_model(&SMOLLM2, None) else {
        assert!(
            std::env::var_os("CHOICELAB_REQUIRE_MODELS").is_none(),
            "CHOICELAB_REQUIRE_MODELS is set but {} is not in the models folder",
            SMOLLM2.file
        );
        eprintln!(
            "skipped: {} not found (choicelab model fetch smollm2)",
            SMOLLM2.file
        );
        return None;
    };
    Some(LocalModel::load(&path, 2).expect("the fetched model loads"))
}

#[test]
fn the_chat_prompt_round_trips_through_the_tokenizer() {
    let Some(model) = smollm2() else { return };
    let messages = [
        Message::system("Answer with one word."),
        Message::user("In 1969, who walked on the Moon?  Café, 12345, naïve\ttabs\n\nend"),
    ];
    let prompt = model.prompt(&messages).unwrap();
    let ids = model.encode(&prompt).unwrap();
    assert_eq!(model.decode(&ids).unwrap(), prompt);
    // <|im_start|> is 1 and <|im_end|> is 2 in SmolLM2's vocabulary, each one token, with no
    // spurious space token after a special token.
    assert_eq!(ids[0], 1);
    assert_eq!(model.decode(&ids[1..2]).unwrap(), "system");
    assert_eq!(ids.iter().filter(|&&t| t == 2).count(), 2);
    // Digits are split one by one.
    assert_eq!(model.encode("12345").unwrap().len(), 5);
}

#[test]
fn the_local_model_knows_the_capital_of_france() {
    let Some(mut model) = smollm2() else { return };
    let answer = model
        .generate_one(
            &[Message::user("What is the capital of France?")],
            &Sampling::greedy(32),
        )
        .unwrap();
    assert!(answer.text.contains("Paris"), "answer: {:?}", answer.text);
    assert!(answer.completion_tokens > 0 && answer.completion_tokens <= 32);
}

#[test]
fn the_first_token_matches_a_float64_reference() {
    let Some(mut model) = smollm2() else { return };
    let messages = [Message::user("What is the capital of France?")];
    // bench/reference_llama.py (gguf-py 0.19.0 dequantization, numpy float64) on the same prompt:
    // "The" (504) 0.152177, "L" (60) 0.140182, "La" (15319) 0.103760.
    let p = model
        .first_token_probabilities(&messages, &[504, 60, 15319])
        .unwrap();
    for (got, want) in p.iter().zip([0.152177, 0.140182, 0.103760]) {
        assert!((got - want).abs() < 5e-4, "{p:?}");
    }
}

#[test]
fn reusing_a_shared_prefix_changes_no_probability() {
    let Some(mut warm) = smollm2() else { return };
    let question = |option: &str| {
        vec![Message::user(format!(
            "Which do you prefer? A: {option}. B: a cup of tea. Answer A or B."
        ))]
    };
    // The second question shares everything up to the option with the first.
    warm.label_probabilities(&question("a sunny day"), &["A", "B"])
        .unwrap();
    let reused = warm
        .label_probabilities(&question("a rainy day"), &["A", "B"])
        .unwrap()
        .unwrap();
    let mut cold = smollm2().unwrap();
    let fresh = cold
        .label_probabilities(&question("a rainy day"), &["A", "B"])
        .unwrap()
        .unwrap();
    for (r, f) in reused.iter().zip(&fresh) {
        assert!((r - f).abs() < 1e-4, "reused {reused:?} vs fresh {fresh:?}");
    }
    assert!(fresh.iter().all(|p| (0.0..=1.0).contains(p)));
    assert!(
        fresh.iter().sum::<f64>() > 0.5,
        "A and B should carry most mass: {fresh:?}"
    );
}

#[test]
fn seeded_sampling_repeats_and_greedy_decoding_is_one_answer() {
    let Some(mut model) = smollm2() else { return };
    let messages = [Message::user("Name a colour.")];
    let sampling = Sampling {
        temperature: 1.0,
        max_tokens: 8,
        seed: 7,
    };
    let first = model.generate(&messages, &sampling, 3).unwrap();
    let again = model.generate(&messages, &sampling, 3).unwrap();
    let texts =
        |g: &[choicelab_agents::Generation]| g.iter().map(|a| a.text.clone()).collect::<Vec<_>>();
    assert_eq!(texts(&first), texts(&again));
    let greedy = model.generate(&messages, &Sampling::greedy(8), 2).unwrap();
    assert_eq!(greedy[0].text, greedy[1].text);
}

#[test]
fn a_file_that_is_not_gguf_or_is_cut_short_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.gguf");
    std::fs::write(&text, "just some text").unwrap();
    let error = LocalModel::load(&text, 1).unwrap_err().to_string();
    assert!(error.contains("not a GGUF file"), "{error}");

    let Some(path) = find_model(&SMOLLM2, None) else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.gguf");
    std::fs::File::create(&cut)
        .unwrap()
        .write_all(&bytes[..bytes.len() / 2])
        .unwrap();
    let error = LocalModel::load(&cut, 1).unwrap_err().to_string();
    assert!(error.contains("cut.gguf"), "{error}");
}
