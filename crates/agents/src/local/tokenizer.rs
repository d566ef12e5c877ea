//! The tokenizer of a GGUF model, built from its metadata.
//!
//! candle reads the vocabulary, merges and special tokens. For the `smollm` pre-tokenizer
//! (SmolLM and SmolLM2) candle falls back to GPT-2's byte-level pre-tokenizer, which adds a
//! prefix space: special tokens then come out with a spurious leading space and the model's
//! answers degrade. SmolLM2's own `tokenizer.json` splits digits one by one, then applies the
//! byte-level split without a prefix space; that is what is built here.

use candle_core::quantized::gguf_file;
use candle_core::quantized::tokenizer::TokenizerFromGguf;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::Tokenizer;

use crate::error::{Error, Result};

/// The tokenizer described by a GGUF file's `tokenizer.ggml.*` metadata.
pub(crate) fn gguf_tokenizer(content: &gguf_file::Content) -> Result<Tokenizer> {
    let mut tokenizer =
        Tokenizer::from_gguf(content).map_err(|e| Error::Tokenizer(e.to_string()))?;
    let pre = content
        .metadata
        .get("tokenizer.ggml.pre")
        .and_then(|v| v.to_string().ok())
        .map(String::as_str);
    if pre == Some("smollm") {
        let digits_then_bytes = Sequence::new(vec![
            Digits::new(true).into(),
            ByteLevel::new(false, true, true).into(),
        ]);
        tokenizer.with_pre_tokenizer(Some(digits_then_bytes));
        tokenizer.with_decoder(Some(ByteLevelDecoder::new(false, true, true)));
    }
    Ok(tokenizer)
}

/// The token ids of `text`, special tokens (`<|im_start|>`) recognised as such.
pub(crate) fn encode(tokenizer: &Tokenizer, text: &str) -> Result<Vec<u32>> {
    tokenizer
        .encode(text, false)
        .map(|encoding| encoding.get_ids().to_vec())
        .map_err(|e| Error::Tokenizer(e.to_string()))
}

/// The text of `ids`, special tokens included.
pub(crate) fn decode(tokenizer: &Tokenizer, ids: &[u32]) -> Result<String> {
    tokenizer
        .decode(ids, false)
        .map_err(|e| Error::Tokenizer(e.to_string()))
}
