"""Reference forward pass of a llama-family GGUF model in float64 numpy.

The weights are dequantized with gguf-py (the llama.cpp project's reader); activations are
never quantized. Prints the eight most probable next tokens as id:probability. This is the
reference the golden test `the_first_token_matches_a_float64_reference` in
crates/agents/tests/local_model.rs was taken from.

    pip install gguf numpy
    python3 bench/reference_llama.py MODEL.gguf 1,9690,198,...   # token ids, comma-separated
"""
import sys, numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

path, ids = sys.argv[1], [int(t) for t in sys.argv[2].split(",")]
r = GGUFReader(path)
meta = {f.name: f for f in r.fields.values()}
def scalar(k):
    f = meta[k]; return f.parts[f.data[0]][0]
W = {}
for t in r.tensors:
    a = dequantize(t.data, t.tensor_type).astype(np.float64)
    W[t.name] = a.reshape([int(x) for x in reversed(t.shape)]) if a.ndim == 1 and len(t.shape) > 1 else a
n_layer = int(scalar("llama.block_count")); n_head = int(scalar("llama.attention.head_count"))
n_kv = int(scalar("llama.attention.head_count_kv")); eps = float(scalar("llama.attention.layer_norm_rms_epsilon"))
base = float(scalar("llama.rope.freq_base"))
emb = W["token_embd.weight"]; d = emb.shape[1]; hd = d // n_head
def rms(x, w): return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w
T = len(ids)
pos = np.arange(T)[:, None]; inv = base ** (-np.arange(0, hd, 2) / hd); ang = pos * inv[None, :]
cos, sin = np.cos(ang), np.sin(ang)
def rope(x):  # x: T, H, hd ; interleaved pairs (2i, 2i+1) as llama.cpp's NORM mode
    x0, x1 = x[..., 0::2], x[..., 1::2]
    c, s = cos[:, None, :], sin[:, None, :]
    out = np.empty_like(x); out[..., 0::2] = x0 * c - x1 * s; out[..., 1::2] = x0 * s + x1 * c
    return out
x = emb[ids]
mask = np.triu(np.full((T, T), -np.inf), 1)
for l in range(n_layer):
    p = f"blk.{l}."
    h = rms(x, W[p + "attn_norm.weight"])
    q = (h @ W[p + "attn_q.weight"].T).reshape(T, n_head, hd)
    k = (h @ W[p + "attn_k.weight"].T).reshape(T, n_kv, hd)
    v = (h @ W[p + "attn_v.weight"].T).reshape(T, n_kv, hd)
    q, k = rope(q), rope(k)
    rep = n_head // n_kv
    k = np.repeat(k, rep, axis=1); v = np.repeat(v, rep, axis=1)
    att = np.einsum("thd,shd->hts", q, k) / np.sqrt(hd) + mask
    att = np.exp(att - att.max(-1, keepdims=True)); att /= att.sum(-1, keepdims=True)
    o = np.einsum("hts,shd->thd", att, v).reshape(T, d)
    x = x + o @ W[p + "attn_output.weight"].T
    h = rms(x, W[p + "ffn_norm.weight"])
    g = h @ W[p + "ffn_gate.weight"].T; u = h @ W[p + "ffn_up.weight"].T
    x = x + ((g / (1 + np.exp(-g))) * u) @ W[p + "ffn_down.weight"].T
x = rms(x, W["output_norm.weight"])
out = W.get("output.weight", emb)
logits = x[-1] @ out.T
p = np.exp(logits - logits.max()); p /= p.sum()
top = np.argsort(-p)[:8]
print(" ".join(f"{i}:{p[i]:.6f}" for i in top))
