//! The dcppo study: the same numbers at any thread count, and a clear error for bad sizes.

mod common;

use choicelab_studies::{find, NoProgress, RunOptions};

fn metrics_at(threads: usize) -> String {
    let options = RunOptions::quick(&["sizes=[30, 100]", "worlds=3"]);
    common::metrics_at("dcppo", &options, threads)
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    assert_eq!(metrics_at(1), metrics_at(3));
}

#[test]
fn empty_sizes_are_an_error() {
    let error = find("dcppo")
        .unwrap()
        .run(&RunOptions::quick(&["sizes=[]"]), &mut NoProgress)
        .unwrap_err()
        .to_string();
    assert!(error.contains("sizes"), "{error}");
}
