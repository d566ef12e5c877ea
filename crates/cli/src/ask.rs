//! `choicelab ask`: one question to the local model or an OpenAI-compatible endpoint.

use std::path::PathBuf;

use anyhow::Context;
use choicelab_agents::{
    local_model_path, model_spec, model_threads, models_dir, ChatModel, Endpoint, LocalModel,
    Message, OpenAiClient, Sampling,
};
use clap::{Args, ValueEnum};
use serde_json::json;

/// Which chooser answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChooserKind {
    /// The embedded local model (a GGUF file).
    Local,
    /// An OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp's server, Ollama).
    Openai,
}

/// Arguments of `choicelab ask`.
#[derive(Args)]
pub struct AskArgs {
    /// The question.
    prompt: String,
    /// Who answers.
    #[arg(long, value_enum, default_value = "local")]
    chooser: ChooserKind,
    /// The model: a known name (`smollm2`) or a GGUF path for `local`; the endpoint's model
    /// name for `openai`.
    #[arg(long, value_name = "M")]
    model: Option<String>,
    /// The endpoint's base URL, up to and including `/v1` (openai).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8000/v1")]
    base_url: String,
    /// The environment variable holding the API key (openai).
    #[arg(long, value_name = "VAR", default_value = "OPENAI_API_KEY")]
    api_key_env: String,
    /// A system message.
    #[arg(long, value_name = "TEXT")]
    system: Option<String>,
    /// The most tokens the answer may have.
    #[arg(long, value_name = "N", default_value_t = 256)]
    max_tokens: usize,
    /// Sampling temperature (0: greedy).
    #[arg(long, value_name = "T", default_value_t = 0.0)]
    temperature: f64,
    /// Seed of the sampling.
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
    /// Models folder (default: $CHOICELAB_MODELS, then the user cache folder).
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
    /// Print JSON: text, token counts and prefill/decode speeds.
    #[arg(long)]
    json: bool,
}

/// Runs `choicelab ask`; the local model uses `threads` threads, at most one per core.
pub fn ask(args: AskArgs, threads: Option<usize>) -> anyhow::Result<()> {
    let mut messages = Vec::new();
    if let Some(system) = &args.system {
        messages.push(Message::system(system.clone()));
    }
    messages.push(Message::user(args.prompt.clone()));
    let sampling = Sampling {
        temperature: args.temperature,
        max_tokens: args.max_tokens,
        seed: args.seed,
    };
    let mut model: Box<dyn ChatModel> = match args.chooser {
        ChooserKind::Local => Box::new(local_model(&args, model_threads(threads.unwrap_or(0)))?),
        ChooserKind::Openai => Box::new(OpenAiClient::new(Endpoint {
            base_url: args.base_url.clone(),
            model: args
                .model
                .clone()
                .context("--chooser openai needs --model (the endpoint's model name)")?,
            api_key_env: args.api_key_env.clone(),
            ..Endpoint::default()
        })?),
    };
    let answer = model
        .generate(&messages, &sampling, 1)?
        .pop()
        .context("the model gave no answer")?;
    if args.json {
        let rate = |tokens: usize, seconds: f64| {
            if seconds > 0.0 {
                json!(tokens as f64 / seconds)
            } else {
                json!(null)
            }
        };
        let line = json!({
            "text": answer.text,
            "prompt_tokens": answer.prompt_tokens,
            "completion_tokens": answer.completion_tokens,
            "prefill_tok_s": rate(answer.prompt_tokens, answer.prefill_seconds),
            "decode_tok_s": rate(answer.completion_tokens, answer.decode_seconds),
        });
        crate::output::print(&format!("{line}\n"))
    } else {
        crate::output::print(&format!("{}\n", answer.text))
    }
}

/// The local model named by `--model` (a known name or a GGUF path; default `smollm2`).
fn local_model(args: &AskArgs, threads: usize) -> anyhow::Result<LocalModel> {
    let name = args.model.as_deref().unwrap_or("smollm2");
    let path = local_model_path(name, args.models.as_deref())?.with_context(|| {
        let folder = models_dir(args.models.as_deref())
            .map_or_else(|| "none".to_owned(), |d| d.display().to_string());
        let file = model_spec(name).map_or(name, |spec| spec.file);
        format!("{file} is not in the models folder ({folder}); run `choicelab model fetch {name}`")
    })?;
    Ok(LocalModel::load(&path, threads)?)
}
