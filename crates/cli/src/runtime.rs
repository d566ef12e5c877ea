//! Process-wide settings: the worker pool, candle's own thread pools and the allocator.
//!
//! The studies train many small networks side by side, one per worker. Measured on 2 cores
//! (TD3+BC, 64×64, batch 256, `offline-rl` on Pendulum) each of the three settings below
//! matters: candle's spinning element-wise pool takes a core from the workers; without
//! `RAYON_NUM_THREADS` candle 0.11 re-reads `/proc/cpuinfo` at every matrix product to size
//! its pool (a third of a step); and glibc's allocator hands the large activation buffers
//! back to the kernel at every free, so each step pays page faults again (half of a CQL step).

/// Sizes the worker pool (`threads`, else `RAYON_NUM_THREADS`, else one per core), leaves
/// candle one thread per operation unless told otherwise, and keeps freed memory in-process.
pub(crate) fn configure(threads: Option<usize>) -> anyhow::Result<()> {
    let from_env = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
    };
    let workers = threads
        .or_else(|| from_env("RAYON_NUM_THREADS"))
        .unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
    // Both are read by candle at every operation; set before any thread starts.
    for name in ["CANDLE_NUM_THREADS", "RAYON_NUM_THREADS"] {
        if std::env::var_os(name).is_none() {
            std::env::set_var(name, "1");
        }
    }
    keep_freed_memory();
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build_global()?;
    Ok(())
}

/// Raises glibc's thresholds for returning memory to the kernel (mmap 256 MiB, trim 1 GiB),
/// so buffers freed by one training step are reused by the next.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    // SAFETY: `mallopt` only changes allocator parameters; it is called before any other
    // thread exists, and a refused setting (return value 0) leaves the defaults in place.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

/// Other platforms keep their allocator's defaults.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}
