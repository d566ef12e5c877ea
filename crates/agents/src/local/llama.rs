//! A llama-family transformer over GGUF weights: RMS norm, rotary positions in GGUF's
//! interleaved convention (pairs 2i, 2i+1, as llama.cpp applies them after its converter
//! permuted Q and K), grouped-query attention over a key/value cache, and a SwiGLU MLP.
//! Activations stay in f32 throughout.

use std::io::{Read, Seek};

use candle_core::quantized::gguf_file::Content;
use rayon::prelude::*;

use super::weights::{dot, Matrix};
use crate::error::Result;

/// The shape of the network, from the GGUF metadata.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Config {
    layers: usize,
    heads: usize,
    kv_heads: usize,
    dim: usize,
    head_dim: usize,
    rope_dim: usize,
    eps: f32,
    rope_base: f64,
    /// The most positions a conversation may take.
    pub(crate) context: usize,
}

struct Layer {
    attn_norm: Vec<f32>,
    wq: Matrix,
    wk: Matrix,
    wv: Matrix,
    wo: Matrix,
    ffn_norm: Vec<f32>,
    gate: Matrix,
    up: Matrix,
    down: Matrix,
}

/// The network's weights.
pub(crate) struct Llama {
    config: Config,
    embedding: Matrix,
    layers: Vec<Layer>,
    norm: Vec<f32>,
    /// The output projection; None when it is tied to the embedding.
    output: Option<Matrix>,
}

/// Keys and values of the positions seen so far, per layer (`len × kv_heads·head_dim`).
pub(crate) struct KvCache {
    keys: Vec<Vec<f32>>,
    values: Vec<Vec<f32>>,
    len: usize,
}

impl KvCache {
    /// An empty cache for `config`.
    pub(crate) fn new(config: &Config) -> Self {
        Self {
            keys: vec![Vec::new(); config.layers],
            values: vec![Vec::new(); config.layers],
            len: 0,
        }
    }

    /// Positions held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Forgets every position from `len` on.
    pub(crate) fn truncate(&mut self, len: usize, config: &Config) {
        let width = config.kv_heads * config.head_dim;
        for (k, v) in self.keys.iter_mut().zip(&mut self.values) {
            k.truncate(len * width);
            v.truncate(len * width);
        }
        self.len = self.len.min(len);
    }
}

fn metadata_usize(content: &Content, key: &str) -> Result<usize> {
    content
        .metadata
        .get(key)
        .and_then(|v| v.to_u32().ok())
        .map(|v| v as usize)
        .ok_or_else(|| candle_core::Error::Msg(format!("metadata `{key}` is missing")).into())
}

fn vector<R: Read + Seek>(content: &Content, reader: &mut R, name: &str) -> Result<Vec<f32>> {
    let matrix = Matrix::load(content, reader, name)?;
    let mut values = vec![0.0; matrix.cols()];
    matrix.row_into(0, &mut values);
    Ok(values)
}

impl Llama {
    /// Reads the network from a GGUF file of architecture `llama`.
    pub(crate) fn load<R: Read + Seek>(content: &Content, reader: &mut R) -> Result<Self> {
        let heads = metadata_usize(content, "llama.attention.head_count")?;
        let kv_heads = metadata_usize(content, "llama.attention.head_count_kv")?;
        let dim = metadata_usize(content, "llama.embedding_length")?;
        let layers = metadata_usize(content, "llama.block_count")?;
        if heads == 0 || kv_heads == 0 || heads % kv_heads != 0 || dim % heads != 0 {
            return Err(candle_core::Error::Msg(format!(
                "{heads} heads, {kv_heads} key/value heads and width {dim} do not fit together"
            ))
            .into());
        }
        let head_dim = dim / heads;
        let rope_dim = metadata_usize(content, "llama.rope.dimension_count").unwrap_or(head_dim);
        let eps = content
            .metadata
            .get("llama.attention.layer_norm_rms_epsilon")
            .and_then(|v| v.to_f32().ok())
            .unwrap_or(1e-5);
        let rope_base = content
            .metadata
            .get("llama.rope.freq_base")
            .and_then(|v| v.to_f32().ok())
            .map_or(10_000.0, f64::from);
        let context = metadata_usize(content, "llama.context_length").unwrap_or(4096);
        if rope_dim > head_dim || !rope_dim.is_multiple_of(2) {
            return Err(candle_core::Error::Msg(format!(
                "rotary width {rope_dim} does not fit heads of width {head_dim}"
            ))
            .into());
        }
        let config = Config {
            layers,
            heads,
            kv_heads,
            dim,
            head_dim,
            rope_dim,
            eps,
            rope_base,
            context,
        };
        let embedding = Matrix::load(content, reader, "token_embd.weight")?;
        let mut all = Vec::with_capacity(layers);
        for l in 0..layers {
            let name = |part: &str| format!("blk.{l}.{part}.weight");
            let layer = Layer {
                attn_norm: vector(content, reader, &name("attn_norm"))?,
                wq: Matrix::load(content, reader, &name("attn_q"))?,
                wk: Matrix::load(content, reader, &name("attn_k"))?,
                wv: Matrix::load(content, reader, &name("attn_v"))?,
                wo: Matrix::load(content, reader, &name("attn_output"))?,
                ffn_norm: vector(content, reader, &name("ffn_norm"))?,
                gate: Matrix::load(content, reader, &name("ffn_gate"))?,
                up: Matrix::load(content, reader, &name("ffn_up"))?,
                down: Matrix::load(content, reader, &name("ffn_down"))?,
            };
            let kv_width = kv_heads * head_dim;
            let fits = layer.wq.rows() == dim
                && layer.wq.cols() == dim
                && layer.wk.rows() == kv_width
                && layer.wv.rows() == kv_width
                && layer.wo.rows() == dim
                && layer.gate.cols() == dim
                && layer.down.rows() == dim
                && layer.attn_norm.len() == dim
                && layer.ffn_norm.len() == dim;
            if !fits {
                return Err(candle_core::Error::Msg(format!(
                    "block {l}: weight shapes do not match width {dim}"
                ))
                .into());
            }
            all.push(layer);
        }
        let output = if content.tensor_infos.contains_key("output.weight") {
            Some(Matrix::load(content, reader, "output.weight")?)
        } else {
            None
        };
        Ok(Self {
            config,
            embedding,
            layers: all,
            norm: vector(content, reader, "output_norm.weight")?,
            output,
        })
    }

    /// The network's shape.
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// Vocabulary size (rows of the output projection).
    pub(crate) fn vocabulary(&self) -> usize {
        self.output.as_ref().unwrap_or(&self.embedding).rows()
    }

    /// Feeds `tokens` after the positions in `cache` (which grows by them); returns the
    /// logits of the token that follows the last one.
    pub(crate) fn forward(&self, tokens: &[u32], cache: &mut KvCache) -> Result<Vec<f32>> {
        let c = &self.config;
        let (m, d) = (tokens.len(), c.dim);
        let start = cache.len;
        if m == 0 || start + m > c.context {
            return Err(candle_core::Error::Msg(format!(
                "{} positions exceed the context of {}",
                start + m,
                c.context
            ))
            .into());
        }
        let vocabulary = self.embedding.rows();
        let mut x = vec![0.0f32; m * d];
        for (t, &token) in tokens.iter().enumerate() {
            if token as usize >= vocabulary {
                return Err(candle_core::Error::Msg(format!(
                    "token {token} is outside the vocabulary of {vocabulary}"
                ))
                .into());
            }
            self.embedding
                .row_into(token as usize, &mut x[t * d..(t + 1) * d]);
        }
        let kv_width = c.kv_heads * c.head_dim;
        let mut h = vec![0.0f32; m * d];
        let mut q = vec![0.0f32; m * d];
        let mut k = vec![0.0f32; m * kv_width];
        let mut v = vec![0.0f32; m * kv_width];
        let mut attended = vec![0.0f32; m * d];
        let mut projected = vec![0.0f32; m * d];
        let ffn = self.layers.first().map_or(0, |l| l.gate.rows());
        let mut gate = vec![0.0f32; m * ffn];
        let mut up = vec![0.0f32; m * ffn];
        for (l, layer) in self.layers.iter().enumerate() {
            rms_norm(&x, &layer.attn_norm, c.eps, &mut h);
            layer.wq.matmul(&h, &mut q);
            layer.wk.matmul(&h, &mut k);
            layer.wv.matmul(&h, &mut v);
            self.rope(&mut q, c.heads, start);
            self.rope(&mut k, c.kv_heads, start);
            cache.keys[l].extend_from_slice(&k);
            cache.values[l].extend_from_slice(&v);
            self.attend(&q, &cache.keys[l], &cache.values[l], start, &mut attended);
            layer.wo.matmul(&attended, &mut projected);
            add(&mut x, &projected);

            rms_norm(&x, &layer.ffn_norm, c.eps, &mut h);
            layer.gate.matmul(&h, &mut gate);
            layer.up.matmul(&h, &mut up);
            for (g, u) in gate.iter_mut().zip(&up) {
                *g = *g / (1.0 + (-*g).exp()) * u;
            }
            layer.down.matmul(&gate, &mut projected);
            add(&mut x, &projected);
        }
        cache.len = start + m;
        let mut last = vec![0.0f32; d];
        rms_norm(&x[(m - 1) * d..], &self.norm, c.eps, &mut last);
        let output = self.output.as_ref().unwrap_or(&self.embedding);
        let mut logits = vec![0.0f32; output.rows()];
        output.matmul(&last, &mut logits);
        Ok(logits)
    }

    /// Rotates each head's first `rope_dim` features by position (interleaved pairs).
    fn rope(&self, x: &mut [f32], heads: usize, start: usize) {
        let c = &self.config;
        let width = heads * c.head_dim;
        for (t, row) in x.chunks_exact_mut(width).enumerate() {
            let position = (start + t) as f64;
            for i in 0..c.rope_dim / 2 {
                let frequency = c.rope_base.powf(-((2 * i) as f64) / c.rope_dim as f64);
                let (sin, cos) = (position * frequency).sin_cos();
                let (sin, cos) = (sin as f32, cos as f32);
                for head in row.chunks_exact_mut(c.head_dim) {
                    let (a, b) = (head[2 * i], head[2 * i + 1]);
                    head[2 * i] = a * cos - b * sin;
                    head[2 * i + 1] = a * sin + b * cos;
                }
            }
        }
    }

    /// Causal attention of the queries at positions `start..` over the cached keys and
    /// values; writes `m × dim` into `out`.
    fn attend(&self, q: &[f32], keys: &[f32], values: &[f32], start: usize, out: &mut [f32]) {
        let c = &self.config;
        let group = c.heads / c.kv_heads;
        let kv_width = c.kv_heads * c.head_dim;
        let scale = 1.0 / (c.head_dim as f32).sqrt();
        out.par_chunks_mut(c.head_dim).enumerate().for_each_init(
            Vec::new,
            |scores: &mut Vec<f32>, (i, head_out)| {
                let (t, head) = (i / c.heads, i % c.heads);
                let kv_head = head / group;
                let query = &q[i * c.head_dim..(i + 1) * c.head_dim];
                let seen = start + t + 1;
                scores.clear();
                scores.extend((0..seen).map(|s| {
                    let key = &keys[s * kv_width + kv_head * c.head_dim..][..c.head_dim];
                    dot(query, key) * scale
                }));
                let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut total = 0.0;
                for s in scores.iter_mut() {
                    *s = (*s - max).exp();
                    total += *s;
                }
                head_out.fill(0.0);
                for (s, weight) in scores.iter().enumerate() {
                    let value = &values[s * kv_width + kv_head * c.head_dim..][..c.head_dim];
                    let weight = weight / total;
                    for (o, v) in head_out.iter_mut().zip(value) {
                        *o = weight.mul_add(*v, *o);
                    }
                }
            },
        );
    }
}

/// `out = x / rms(x) · weight`, row by row.
fn rms_norm(x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) {
    let d = weight.len();
    for (row, normed) in x.chunks_exact(d).zip(out.chunks_exact_mut(d)) {
        let mean_square = dot(row, row) / d as f32;
        let scale = 1.0 / (mean_square + eps).sqrt();
        for ((o, &v), &w) in normed.iter_mut().zip(row).zip(weight) {
            *o = v * scale * w;
        }
    }
}

fn add(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}
