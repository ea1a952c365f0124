//! Realistic default content: chat requests, OpenAI-format responses, embeddings.

use serde_json::{Value, json};

use super::ids::IdSource;

/// The chat model the seed page's example uses.
pub const CHAT_MODEL: &str = "meta-llama/llama-3.2-3b-instruct/fp-16";
/// An embedding model id in the same `org/name/precision` form.
pub const EMBEDDING_MODEL: &str = "qwen/qwen3-embedding-4b/bf-16";
/// Dimensions of the generated embedding vectors (real models use more; the
/// shape, not the size, is what a receiver must handle).
pub const EMBEDDING_DIMENSIONS: usize = 16;

const PROMPTS: &[(&str, &str)] = &[
    (
        "Summarize the following support ticket in one sentence: the customer cannot reset their password because the email never arrives.",
        "The customer is not receiving the password reset email and cannot reset their password.",
    ),
    (
        "Classify the sentiment of this review as positive, negative or neutral: \"The delivery was late but the product works well.\"",
        "neutral",
    ),
    (
        "Extract the invoice number from: \"Invoice INV-2291 is due on 2026-04-01.\"",
        "INV-2291",
    ),
];

/// A chat-completion request as submitted with `webhook_id` in its metadata.
pub fn chat_request(ids: &mut IdSource, webhook_id: &str) -> (Value, usize) {
    let pick = ids.next_in(0, PROMPTS.len() as u64 - 1) as usize;
    let request = json!({
        "model": CHAT_MODEL,
        "messages": [
            {"role": "system", "content": "You are a concise assistant."},
            {"role": "user", "content": PROMPTS[pick].0}
        ],
        "max_tokens": 256,
        "temperature": 0.2,
        "metadata": {"webhook_id": webhook_id}
    });
    (request, pick)
}

/// Token counts for a chat completion.
pub fn chat_usage(ids: &mut IdSource) -> Value {
    let prompt = ids.next_in(24, 180);
    let completion = ids.next_in(4, 64);
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion
    })
}

/// An OpenAI-format chat completion answering prompt number `pick`.
pub fn chat_response(ids: &mut IdSource, pick: usize, created: u64, usage: &Value) -> Value {
    json!({
        "id": ids.id("chatcmpl-", 24),
        "object": "chat.completion",
        "created": created,
        "model": CHAT_MODEL,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": PROMPTS[pick % PROMPTS.len()].1},
            "finish_reason": "stop"
        }],
        "usage": usage
    })
}

/// An embeddings request with two inputs.
pub fn embedding_request(webhook_id: &str) -> Value {
    json!({
        "model": EMBEDDING_MODEL,
        "input": [
            "How do I rotate my API key?",
            "Webhooks are retried three times with exponential backoff."
        ],
        "encoding_format": "float",
        "metadata": {"webhook_id": webhook_id}
    })
}

/// Token counts for an embeddings request (no completion tokens).
pub fn embedding_usage(ids: &mut IdSource) -> Value {
    let prompt = ids.next_in(12, 40);
    json!({"prompt_tokens": prompt, "total_tokens": prompt})
}

/// An OpenAI-format embeddings response: one float vector per input.
pub fn embedding_response(ids: &mut IdSource, usage: &Value) -> Value {
    let data: Vec<Value> = (0..2)
        .map(|index| {
            let vector: Vec<f64> = (0..EMBEDDING_DIMENSIONS).map(|_| ids.next_unit()).collect();
            json!({"object": "embedding", "index": index, "embedding": vector})
        })
        .collect();
    json!({
        "object": "list",
        "data": data,
        "model": EMBEDDING_MODEL,
        "usage": usage
    })
}

/// Usage of a generation that produced nothing.
pub fn empty_usage() -> Value {
    json!({"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0})
}
