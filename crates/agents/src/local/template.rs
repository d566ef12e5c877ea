//! The chat template stored in a GGUF file (`tokenizer.chat_template`, Jinja), rendered with
//! minijinja the way Hugging Face's `apply_chat_template` renders it.

use minijinja::value::Serde;
use minijinja::{Environment, ErrorKind, Value};
use serde::Serialize;

use crate::chat::Message;
use crate::error::{Error, Result};

/// A model's chat template, parsed once.
#[derive(Debug)]
pub(crate) struct ChatTemplate {
    environment: Environment<'static>,
    bos_token: String,
    eos_token: String,
}

/// What Hugging Face passes to a chat template.
#[derive(Serialize)]
struct TemplateContext<'a> {
    messages: &'a [Message],
    add_generation_prompt: bool,
    bos_token: &'a str,
    eos_token: &'a str,
}

const TEMPLATE_NAME: &str = "chat";

impl ChatTemplate {
    /// Parses `source`; `bos_token` and `eos_token` are the texts templates may insert.
    pub(crate) fn new(source: &str, bos_token: String, eos_token: String) -> Result<Self> {
        let mut environment = Environment::new();
        // Hugging Face templates signal unsupported conversations with this function.
        environment.add_function(
            "raise_exception",
            |message: String| -> std::result::Result<Value, minijinja::Error> {
                Err(minijinja::Error::new(ErrorKind::InvalidOperation, message))
            },
        );
        environment
            .add_template_owned(TEMPLATE_NAME, source.to_owned())
            .map_err(|e| Error::Template(format!("{e:#}")))?;
        Ok(Self {
            environment,
            bos_token,
            eos_token,
        })
    }

    /// The prompt text of `messages`, ending with the assistant's turn opened when
    /// `add_generation_prompt` is set.
    pub(crate) fn render(
        &self,
        messages: &[Message],
        add_generation_prompt: bool,
    ) -> Result<String> {
        let context = TemplateContext {
            messages,
            add_generation_prompt,
            bos_token: &self.bos_token,
            eos_token: &self.eos_token,
        };
        self.environment
            .get_template(TEMPLATE_NAME)
            .and_then(|template| template.render(Value::from(Serde(&context))))
            .map_err(|e| Error::Template(format!("{e:#}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SmolLM2-135M-Instruct's template, as stored in its GGUF file.
    const SMOLLM2_TEMPLATE: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    fn smollm2() -> ChatTemplate {
        ChatTemplate::new(SMOLLM2_TEMPLATE, "<|im_start|>".into(), "<|im_end|>".into()).unwrap()
    }

    #[test]
    fn chatml_inserts_the_default_system_prompt_and_opens_the_answer() {
        let text = smollm2().render(&[Message::user("Hi")], true).unwrap();
        assert_eq!(
            text,
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn a_given_system_prompt_replaces_the_default() {
        let text = smollm2()
            .render(&[Message::system("Be brief."), Message::user("Hi")], false)
            .unwrap();
        assert_eq!(
            text,
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        );
    }

    #[test]
    fn a_broken_template_and_a_raised_exception_are_errors() {
        let error = ChatTemplate::new("{% for %}", String::new(), String::new()).unwrap_err();
        assert!(error.to_string().starts_with("chat template:"), "{error}");
        let raising = ChatTemplate::new(
            "{{ raise_exception('only user turns') }}",
            String::new(),
            String::new(),
        )
        .unwrap();
        let error = raising.render(&[Message::user("x")], true).unwrap_err();
        assert!(error.to_string().contains("only user turns"), "{error}");
    }
}
