//! Weight matrices of a GGUF model and their products with activations.
//!
//! The simple block formats (Q4_0, Q4_1, Q8_0) stay quantized in memory, with their scales
//! widened to f32 at load; any other format candle can read is dequantized to f32. Products
//! dequantize one weight row at a time into f32 and take its dot product with every
//! activation row in f32: the activations are never quantized, so the output is the exact
//! product of the file's weights (up to f32 rounding). Each output element is computed by
//! one thread in a fixed order, so results do not depend on the thread count.

use std::io::{Read, Seek, SeekFrom};

use candle_core::quantized::gguf_file::{Content, TensorInfo};
use candle_core::quantized::GgmlDType;
use candle_core::Device;
use half::f16;
use rayon::prelude::*;

use crate::error::Result;

const BLOCK: usize = 32;

/// 32 weights stored as 4-bit q with w = d·q + m (Q4_1; Q4_0 is the case m = −8d). Weight j
/// is the low nibble of byte j, weight j + 16 its high nibble.
#[derive(Debug, Clone, Copy)]
struct BlockQ4_1 {
    d: f32,
    m: f32,
    qs: [u8; 16],
}

/// 32 weights stored as 8-bit signed q with w = d·q.
#[derive(Debug, Clone, Copy)]
struct BlockQ8_0 {
    d: f32,
    qs: [i8; 32],
}

#[derive(Debug)]
enum Storage {
    Q4(Vec<BlockQ4_1>),
    Q8_0(Vec<BlockQ8_0>),
    F32(Vec<f32>),
}

/// A `rows × cols` weight matrix, row-major (one row per output feature).
#[derive(Debug)]
pub(crate) struct Matrix {
    rows: usize,
    cols: usize,
    storage: Storage,
}

/// Reads the raw bytes of one tensor, checking they lie within the file.
fn raw_bytes<R: Read + Seek>(
    content: &Content,
    info: &TensorInfo,
    reader: &mut R,
    name: &str,
) -> Result<Vec<u8>> {
    let elements = info.shape.elem_count();
    let block = info.ggml_dtype.block_size();
    if !elements.is_multiple_of(block) {
        return Err(candle_core::Error::Msg(format!(
            "tensor {name}: {elements} elements is not a whole number of blocks of {block}"
        ))
        .into());
    }
    let size = elements / block * info.ggml_dtype.type_size();
    let start = content.tensor_data_offset.saturating_add(info.offset);
    let end = reader
        .seek(SeekFrom::End(0))
        .map_err(candle_core::Error::from)?;
    if start.saturating_add(size as u64) > end {
        return Err(candle_core::Error::Msg(format!(
            "tensor {name} needs {size} bytes at offset {start}; the file ends at {end} (cut short?)"
        ))
        .into());
    }
    let mut bytes = vec![0u8; size];
    reader
        .seek(SeekFrom::Start(start))
        .and_then(|_| reader.read_exact(&mut bytes))
        .map_err(candle_core::Error::from)?;
    Ok(bytes)
}

fn f16_at(bytes: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([bytes[at], bytes[at + 1]]).to_f32()
}

impl Matrix {
    /// Loads tensor `name` as a matrix (a vector is one row).
    pub(crate) fn load<R: Read + Seek>(
        content: &Content,
        reader: &mut R,
        name: &str,
    ) -> Result<Self> {
        let info = content
            .tensor_infos
            .get(name)
            .ok_or_else(|| candle_core::Error::Msg(format!("the file has no tensor {name}")))?;
        let dims = info.shape.dims();
        let (rows, cols) = match dims {
            [cols] => (1, *cols),
            [rows, cols] => (*rows, *cols),
            other => {
                return Err(candle_core::Error::Msg(format!(
                    "tensor {name} has shape {other:?}, expected a matrix"
                ))
                .into())
            }
        };
        let storage = match info.ggml_dtype {
            GgmlDType::Q4_1 if cols % BLOCK == 0 => {
                let bytes = raw_bytes(content, info, reader, name)?;
                Storage::Q4(
                    bytes
                        .chunks_exact(20)
                        .map(|b| BlockQ4_1 {
                            d: f16_at(b, 0),
                            m: f16_at(b, 2),
                            qs: b[4..20].try_into().expect("16 bytes"),
                        })
                        .collect(),
                )
            }
            GgmlDType::Q4_0 if cols % BLOCK == 0 => {
                let bytes = raw_bytes(content, info, reader, name)?;
                Storage::Q4(
                    bytes
                        .chunks_exact(18)
                        .map(|b| {
                            let d = f16_at(b, 0);
                            BlockQ4_1 {
                                d,
                                m: -8.0 * d,
                                qs: b[2..18].try_into().expect("16 bytes"),
                            }
                        })
                        .collect(),
                )
            }
            GgmlDType::Q8_0 if cols % BLOCK == 0 => {
                let bytes = raw_bytes(content, info, reader, name)?;
                Storage::Q8_0(
                    bytes
                        .chunks_exact(34)
                        .map(|b| {
                            let mut qs = [0i8; 32];
                            for (q, &byte) in qs.iter_mut().zip(&b[2..34]) {
                                *q = byte as i8;
                            }
                            BlockQ8_0 {
                                d: f16_at(b, 0),
                                qs,
                            }
                        })
                        .collect(),
                )
            }
            _ => {
                let device = Device::Cpu;
                let values = info
                    .read(reader, content.tensor_data_offset, &device)
                    .and_then(|q| q.dequantize(&device))
                    .and_then(|t| t.flatten_all())
                    .and_then(|t| t.to_vec1::<f32>())
                    .map_err(|e| candle_core::Error::Msg(format!("tensor {name}: {e}")))?;
                Storage::F32(values)
            }
        };
        Ok(Self {
            rows,
            cols,
            storage,
        })
    }

    /// Rows (output features).
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Columns (input features).
    pub(crate) fn cols(&self) -> usize {
        self.cols
    }

    /// Writes row `r` as f32 into `out` (`cols` long).
    pub(crate) fn row_into(&self, r: usize, out: &mut [f32]) {
        let per_row = self.cols / BLOCK;
        match &self.storage {
            Storage::F32(values) => {
                out.copy_from_slice(&values[r * self.cols..(r + 1) * self.cols])
            }
            Storage::Q4(blocks) => {
                for (block, chunk) in blocks[r * per_row..(r + 1) * per_row]
                    .iter()
                    .zip(out.chunks_exact_mut(BLOCK))
                {
                    let q = block.unpack();
                    for (w, q) in chunk.iter_mut().zip(q) {
                        *w = block.d.mul_add(q, block.m);
                    }
                }
            }
            Storage::Q8_0(blocks) => {
                for (block, chunk) in blocks[r * per_row..(r + 1) * per_row]
                    .iter()
                    .zip(out.chunks_exact_mut(BLOCK))
                {
                    for (w, &q) in chunk.iter_mut().zip(&block.qs) {
                        *w = block.d * f32::from(q);
                    }
                }
            }
        }
    }

    /// The dot product of row `r` with `x`, reading the quantized row in place; `block_sums`
    /// holds the sums of `x` over each block of 32.
    fn row_dot(&self, r: usize, x: &[f32], block_sums: &[f32]) -> f32 {
        let per_row = self.cols / BLOCK;
        match &self.storage {
            Storage::F32(values) => dot(&values[r * self.cols..(r + 1) * self.cols], x),
            Storage::Q4(blocks) => {
                let blocks = &blocks[r * per_row..(r + 1) * per_row];
                #[cfg(all(
                    target_arch = "x86_64",
                    target_feature = "avx2",
                    target_feature = "fma"
                ))]
                return simd::q4_dot(blocks, x, block_sums);
                // Σ (d·q + m)·x = Σ d·(q·x) + Σ m·(Σx): the offsets use the block sums.
                #[allow(unreachable_code)]
                let mut lanes = [0.0f32; 8];
                let mut offsets = 0.0f32;
                for ((block, xs), &sum) in blocks.iter().zip(x.chunks_exact(BLOCK)).zip(block_sums)
                {
                    let partial = lanes_dot(&block.unpack(), xs);
                    for (lane, p) in lanes.iter_mut().zip(partial) {
                        *lane = block.d.mul_add(p, *lane);
                    }
                    offsets = block.m.mul_add(sum, offsets);
                }
                sum_lanes(lanes) + offsets
            }
            Storage::Q8_0(blocks) => {
                let blocks = &blocks[r * per_row..(r + 1) * per_row];
                #[cfg(all(
                    target_arch = "x86_64",
                    target_feature = "avx2",
                    target_feature = "fma"
                ))]
                return simd::q8_dot(blocks, x);
                #[allow(unreachable_code)]
                let mut lanes = [0.0f32; 8];
                for (block, xs) in blocks.iter().zip(x.chunks_exact(BLOCK)) {
                    let q: [f32; BLOCK] = std::array::from_fn(|j| f32::from(block.qs[j]));
                    let partial = lanes_dot(&q, xs);
                    for (lane, p) in lanes.iter_mut().zip(partial) {
                        *lane = block.d.mul_add(p, *lane);
                    }
                }
                sum_lanes(lanes)
            }
        }
    }

    /// `out = x · Wᵀ` for `m` activation rows: `x` is `m × cols`, `out` is `m × rows`.
    pub(crate) fn matmul(&self, x: &[f32], out: &mut [f32]) {
        let m = x.len() / self.cols;
        debug_assert_eq!(out.len(), m * self.rows);
        let band = 16;
        if m == 1 {
            // One activation row: read each weight once, in place.
            let block_sums: Vec<f32> = x.chunks_exact(BLOCK).map(|c| c.iter().sum()).collect();
            out.par_chunks_mut(band).enumerate().for_each(|(b, chunk)| {
                for (i, result) in chunk.iter_mut().enumerate() {
                    *result = self.row_dot(b * band + i, x, &block_sums);
                }
            });
            return;
        }
        // Several rows: dequantize each weight row once and reuse it for all of them.
        let mut transposed = vec![0.0f32; self.rows * m];
        transposed
            .par_chunks_mut(band * m)
            .enumerate()
            .for_each_init(
                || vec![0.0f32; self.cols],
                |row, (b, chunk)| {
                    for (i, results) in chunk.chunks_exact_mut(m).enumerate() {
                        self.row_into(b * band + i, row);
                        for (t, result) in results.iter_mut().enumerate() {
                            *result = dot(row, &x[t * self.cols..(t + 1) * self.cols]);
                        }
                    }
                },
            );
        for (r, results) in transposed.chunks_exact(m).enumerate() {
            for (t, &value) in results.iter().enumerate() {
                out[t * self.rows + r] = value;
            }
        }
    }
}

impl BlockQ4_1 {
    /// The 32 nibbles as floats, in weight order.
    fn unpack(&self) -> [f32; BLOCK] {
        let mut q = [0.0f32; BLOCK];
        let (low, high) = q.split_at_mut(16);
        for ((l, h), &byte) in low.iter_mut().zip(high.iter_mut()).zip(&self.qs) {
            *l = f32::from(byte & 0x0F);
            *h = f32::from(byte >> 4);
        }
        q
    }
}

/// Eight lane-wise partial sums of a·b over a block of 32.
fn lanes_dot(a: &[f32; BLOCK], b: &[f32]) -> [f32; 8] {
    let mut lanes = [0.0f32; 8];
    for (ca, cb) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for l in 0..8 {
            lanes[l] = ca[l].mul_add(cb[l], lanes[l]);
        }
    }
    lanes
}

/// The eight lanes summed in a fixed tree order.
fn sum_lanes(lanes: [f32; 8]) -> f32 {
    ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5]))
        + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]))
}

/// The dot product of two equal-length slices, in 32 independent f32 lanes (four SIMD
/// accumulators, so consecutive multiply-adds do not wait for each other) summed in a fixed
/// order.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(all(
        target_arch = "x86_64",
        target_feature = "avx2",
        target_feature = "fma"
    ))]
    return simd::dot(a, b);
    #[allow(unreachable_code)]
    let mut lanes = [0.0f32; 32];
    let whole = a.len() / 32 * 32;
    for (ca, cb) in a[..whole].chunks_exact(32).zip(b[..whole].chunks_exact(32)) {
        for l in 0..32 {
            lanes[l] = ca[l].mul_add(cb[l], lanes[l]);
        }
    }
    let mut eight = [0.0f32; 8];
    for (l, e) in eight.iter_mut().enumerate() {
        *e = (lanes[l] + lanes[l + 8]) + (lanes[l + 16] + lanes[l + 24]);
    }
    let mut sum = sum_lanes(eight);
    for (x, y) in a[whole..].iter().zip(&b[whole..]) {
        sum = x.mul_add(*y, sum);
    }
    sum
}

/// AVX2 kernels: the same sums as the portable code, eight lanes at a time. The crate is
/// built with AVX2 and FMA enabled on x86-64 (`.cargo/config.toml`), which these require.
#[cfg(all(
    target_arch = "x86_64",
    target_feature = "avx2",
    target_feature = "fma"
))]
mod simd {
    use std::arch::x86_64::*;

    use super::{BlockQ4_1, BlockQ8_0, BLOCK};

    /// The eight lanes of `v` summed in a fixed order.
    #[inline]
    fn horizontal_sum(v: __m256) -> f32 {
        let mut lanes = [0.0f32; 8];
        // SAFETY: `lanes` holds eight f32; the unaligned store writes exactly those.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), v) };
        super::sum_lanes(lanes)
    }

    /// Σ a·b with four accumulators.
    pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let whole = n / 32 * 32;
        // SAFETY: every load reads 8 f32 at an offset below `whole` ≤ the length of both
        // slices; AVX2 and FMA are enabled at compile time (the cfg above).
        let mut sum = unsafe {
            let (pa, pb) = (a.as_ptr(), b.as_ptr());
            let mut acc = [_mm256_setzero_ps(); 4];
            let mut i = 0;
            while i < whole {
                for (k, a_k) in acc.iter_mut().enumerate() {
                    let at = i + 8 * k;
                    *a_k = _mm256_fmadd_ps(
                        _mm256_loadu_ps(pa.add(at)),
                        _mm256_loadu_ps(pb.add(at)),
                        *a_k,
                    );
                }
                i += 32;
            }
            horizontal_sum(_mm256_add_ps(
                _mm256_add_ps(acc[0], acc[2]),
                _mm256_add_ps(acc[1], acc[3]),
            ))
        };
        for (x, y) in a[whole..n].iter().zip(&b[whole..n]) {
            sum = x.mul_add(*y, sum);
        }
        sum
    }

    /// q·x over one 4-bit block, as eight lane sums.
    ///
    /// # Safety
    /// `xs` must point to 32 readable f32.
    #[inline]
    unsafe fn q4_block(block: &BlockQ4_1, xs: *const f32) -> __m256 {
        let mask = _mm_set1_epi8(0x0F);
        let bytes = _mm_loadu_si128(block.qs.as_ptr().cast());
        let low = _mm_and_si128(bytes, mask);
        let high = _mm_and_si128(_mm_srli_epi16(bytes, 4), mask);
        let q0 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(low));
        let q1 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(low, 8)));
        let q2 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(high));
        let q3 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(high, 8)));
        let p01 = _mm256_fmadd_ps(
            q1,
            _mm256_loadu_ps(xs.add(8)),
            _mm256_mul_ps(q0, _mm256_loadu_ps(xs)),
        );
        let p23 = _mm256_fmadd_ps(
            q3,
            _mm256_loadu_ps(xs.add(24)),
            _mm256_mul_ps(q2, _mm256_loadu_ps(xs.add(16))),
        );
        _mm256_add_ps(p01, p23)
    }

    /// q·x over one 8-bit block, as eight lane sums.
    ///
    /// # Safety
    /// `xs` must point to 32 readable f32.
    #[inline]
    unsafe fn q8_block(block: &BlockQ8_0, xs: *const f32) -> __m256 {
        let qs = block.qs.as_ptr();
        let part = |k: usize| {
            let q = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(qs.add(8 * k).cast())));
            _mm256_mul_ps(q, _mm256_loadu_ps(xs.add(8 * k)))
        };
        _mm256_add_ps(
            _mm256_add_ps(part(0), part(1)),
            _mm256_add_ps(part(2), part(3)),
        )
    }

    /// Σ_b d_b·(q_b·x_b) + m_b·(Σ x_b) over 4-bit blocks.
    pub(super) fn q4_dot(blocks: &[BlockQ4_1], x: &[f32], block_sums: &[f32]) -> f32 {
        assert!(x.len() >= blocks.len() * BLOCK && block_sums.len() >= blocks.len());
        let offsets = blocks
            .iter()
            .zip(block_sums)
            .fold(0.0f32, |acc, (block, sum)| block.m.mul_add(*sum, acc));
        // SAFETY: block b reads x[32b..32b + 32], within `x` by the assertion; AVX2 and FMA
        // are enabled at compile time.
        let scaled = unsafe {
            let (mut even, mut odd) = (_mm256_setzero_ps(), _mm256_setzero_ps());
            let pairs = blocks.len() / 2;
            for i in 0..pairs {
                let (b0, b1) = (&blocks[2 * i], &blocks[2 * i + 1]);
                let xs = x.as_ptr().add(2 * i * BLOCK);
                even = _mm256_fmadd_ps(_mm256_set1_ps(b0.d), q4_block(b0, xs), even);
                odd = _mm256_fmadd_ps(_mm256_set1_ps(b1.d), q4_block(b1, xs.add(BLOCK)), odd);
            }
            if let Some(last) = blocks.get(2 * pairs) {
                let xs = x.as_ptr().add(2 * pairs * BLOCK);
                even = _mm256_fmadd_ps(_mm256_set1_ps(last.d), q4_block(last, xs), even);
            }
            horizontal_sum(_mm256_add_ps(even, odd))
        };
        scaled + offsets
    }

    /// Σ_b d_b·(q_b·x_b) over 8-bit blocks.
    pub(super) fn q8_dot(blocks: &[BlockQ8_0], x: &[f32]) -> f32 {
        assert!(x.len() >= blocks.len() * BLOCK);
        // SAFETY: as in `q4_dot`: block b reads x[32b..32b + 32].
        unsafe {
            let (mut even, mut odd) = (_mm256_setzero_ps(), _mm256_setzero_ps());
            let pairs = blocks.len() / 2;
            for i in 0..pairs {
                let (b0, b1) = (&blocks[2 * i], &blocks[2 * i + 1]);
                let xs = x.as_ptr().add(2 * i * BLOCK);
                even = _mm256_fmadd_ps(_mm256_set1_ps(b0.d), q8_block(b0, xs), even);
                odd = _mm256_fmadd_ps(_mm256_set1_ps(b1.d), q8_block(b1, xs.add(BLOCK)), odd);
            }
            if let Some(last) = blocks.get(2 * pairs) {
                let xs = x.as_ptr().add(2 * pairs * BLOCK);
                even = _mm256_fmadd_ps(_mm256_set1_ps(last.d), q8_block(last, xs), even);
            }
            horizontal_sum(_mm256_add_ps(even, odd))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dot_product_matches_a_plain_sum() {
        let a: Vec<f32> = (0..37).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..37).map(|i| (i as f32 * 0.11).cos()).collect();
        let plain: f64 = a
            .iter()
            .zip(&b)
            .map(|(x, y)| f64::from(*x) * f64::from(*y))
            .sum();
        assert!((f64::from(dot(&a, &b)) - plain).abs() < 1e-5);
    }

    #[test]
    fn blocks_dequantize_as_ggml_defines_them() {
        let block = BlockQ4_1 {
            d: 0.5,
            m: -1.0,
            qs: [0x21; 16],
        };
        let matrix = Matrix {
            rows: 1,
            cols: 32,
            storage: Storage::Q4(vec![block]),
        };
        let mut row = vec![0.0; 32];
        matrix.row_into(0, &mut row);
        // Low nibble 1 for the first 16 weights, high nibble 2 for the last 16.
        assert_eq!(row[0], -0.5);
        assert_eq!(row[16], 0.0);

        // The fused dot product reads the same weights.
        let x: Vec<f32> = (0..32).map(|i| i as f32 / 8.0).collect();
        let sums = [x.iter().sum::<f32>()];
        assert!((matrix.row_dot(0, &x, &sums) - dot(&row, &x)).abs() < 1e-4);
    }

    #[test]
    fn the_product_is_the_same_for_any_band_split_and_thread_count() {
        let rows = 40;
        let cols = 64;
        let values: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 7919) % 97) as f32 / 97.0 - 0.5)
            .collect();
        let matrix = Matrix {
            rows,
            cols,
            storage: Storage::F32(values.clone()),
        };
        let x: Vec<f32> = (0..3 * cols).map(|i| (i as f32 * 0.3).sin()).collect();
        let mut out = vec![0.0; 3 * rows];
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        one.install(|| matrix.matmul(&x, &mut out));
        let mut again = vec![0.0; 3 * rows];
        let two = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        two.install(|| matrix.matmul(&x, &mut again));
        assert_eq!(out, again);
        for t in 0..3 {
            for r in 0..rows {
                let expected = dot(
                    &values[r * cols..(r + 1) * cols],
                    &x[t * cols..(t + 1) * cols],
                );
                assert_eq!(out[t * rows + r], expected);
            }
        }
    }
}
