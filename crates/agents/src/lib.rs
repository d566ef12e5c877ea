//! Choosers for choicelab: the embedded local language model (a GGUF file run with candle),
//! OpenAI-compatible endpoints, and the protocols that put choice questions to any of them.

pub mod chat;
pub mod chooser;
pub mod error;
pub mod local;
pub mod models;
pub mod protocol;
pub mod remote;

pub use chat::{ChatModel, Generation, Message, Role, Sampling};
pub use chooser::{AnswerMode, LlmChooser, OrderSplit, Tally};
pub use error::{Error, Result};
pub use local::LocalModel;
pub use models::{
    find_model, local_model_path, model_spec, model_threads, models_dir, verify_model, ModelSpec,
    SMOLLM2,
};
pub use remote::{ClientStats, Endpoint, OpenAiClient};
