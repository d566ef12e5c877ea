//! Episodes as Parquet: round trips and errors that name the file, row and column.
#![cfg(feature = "parquet")]

use std::fs::File;
use std::sync::Arc;

use arrow_array::builder::{FixedSizeListBuilder, Float32Builder};
use arrow_array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, UInt32Array, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use choicelab_core::episodes::{Actions, DatasetMetadata, EpisodeData, Episodes};
use parquet::arrow::ArrowWriter;

fn continuous() -> Episodes {
    let episode = |id: u64, steps: usize, truncated: bool| EpisodeData {
        id,
        seed: id.is_multiple_of(2).then_some(100 + id),
        observations: (0..=steps)
            .map(|t| vec![t as f32 * 0.5, -(id as f32), f32::MIN_POSITIVE])
            .collect(),
        actions: Actions::Continuous((0..steps).map(|t| vec![t as f32 / 7.0]).collect()),
        rewards: (0..steps).map(|t| -(t as f64).sqrt() - 1e-300).collect(),
        terminations: (0..steps).map(|t| !truncated && t + 1 == steps).collect(),
        truncations: (0..steps).map(|t| truncated && t + 1 == steps).collect(),
    };
    let mut metadata = DatasetMetadata::named("pendulum/medium-v0");
    metadata.env_spec = "Pendulum-v1".into();
    metadata.algorithm_name = "SAC".into();
    metadata.ref_min_score = Some(-1197.2);
    metadata.ref_max_score = Some(-140.5);
    metadata.seed = Some(7);
    Episodes::new(
        metadata,
        vec![
            episode(0, 5, true),
            episode(1, 1, false),
            episode(2, 200, true),
        ],
    )
    .unwrap()
}

#[test]
fn continuous_and_discrete_data_sets_round_trip_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pendulum.parquet");
    let data = continuous();
    data.write_parquet(&path).unwrap();
    assert_eq!(Episodes::read_parquet(&path).unwrap(), data);

    let discrete = Episodes::new(
        DatasetMetadata::named("acrobot/random-v0"),
        vec![EpisodeData {
            id: 9,
            seed: None,
            observations: vec![vec![0.0; 6], vec![1.0; 6], vec![2.0; 6]],
            actions: Actions::Discrete(vec![2, 0]),
            rewards: vec![-1.0, 0.0],
            terminations: vec![false, true],
            truncations: vec![false, false],
        }],
    )
    .unwrap();
    let path = dir.path().join("acrobot.parquet");
    discrete.write_parquet(&path).unwrap();
    assert_eq!(Episodes::read_parquet(&path).unwrap(), discrete);
}

/// Writes rows by hand: (episode, step, reward) with 1-wide observations and actions; a row
/// with a `None` reward is a final row.
fn write_rows(path: &std::path::Path, rows: &[(u64, u32, Option<f64>)], metadata: bool) {
    let item = Arc::new(Field::new("item", DataType::Float32, false));
    let list = DataType::FixedSizeList(item.clone(), 1);
    let schema = Arc::new(Schema::new(vec![
        Field::new("episode_id", DataType::UInt64, false),
        Field::new("episode_seed", DataType::UInt64, true),
        Field::new("step", DataType::UInt32, false),
        Field::new("observation", list.clone(), false),
        Field::new("action", list, true),
        Field::new("reward", DataType::Float64, true),
        Field::new("termination", DataType::Boolean, true),
        Field::new("truncation", DataType::Boolean, true),
    ]));
    let lists = |valid: &dyn Fn(usize) -> bool| {
        let mut b = FixedSizeListBuilder::new(Float32Builder::new(), 1).with_field(item.clone());
        for i in 0..rows.len() {
            b.values().append_value(i as f32);
            b.append(valid(i));
        }
        Arc::new(b.finish()) as ArrayRef
    };
    let flags: BooleanArray = rows.iter().map(|r| r.2.map(|_| false)).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|r| r.0).collect::<UInt64Array>()),
        Arc::new(rows.iter().map(|_| None::<u64>).collect::<UInt64Array>()),
        Arc::new(rows.iter().map(|r| r.1).collect::<UInt32Array>()),
        lists(&|_| true),
        lists(&|i| rows[i].2.is_some()),
        Arc::new(rows.iter().map(|r| r.2).collect::<Float64Array>()),
        Arc::new(flags.clone()),
        Arc::new(flags),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let properties = metadata.then(|| {
        let json = serde_json::to_string(&{
            let mut m = DatasetMetadata::named("hand/made-v0");
            m.total_episodes = 1;
            m.total_steps = rows.iter().filter(|r| r.2.is_some()).count();
            m
        })
        .unwrap();
        parquet::file::properties::WriterProperties::builder()
            .set_key_value_metadata(Some(vec![parquet::file::metadata::KeyValue::new(
                "choicelab.metadata".into(),
                json,
            )]))
            .build()
    });
    let mut writer = ArrowWriter::try_new(File::create(path).unwrap(), schema, properties).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[test]
fn bad_files_name_the_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.parquet");
    let message = |rows: &[(u64, u32, Option<f64>)], metadata: bool| {
        write_rows(&path, rows, metadata);
        Episodes::read_parquet(&path).unwrap_err().to_string()
    };
    // A well-formed hand-made file reads.
    write_rows(&path, &[(0, 0, Some(1.0)), (0, 1, None)], true);
    assert_eq!(Episodes::read_parquet(&path).unwrap().episodes.len(), 1);

    let e = message(&[(0, 0, Some(1.0)), (0, 2, None)], true);
    assert!(
        e.contains(":2: field `step`") && e.contains("expected 1"),
        "{e}"
    );
    let e = message(&[(0, 0, Some(1.0)), (0, 1, Some(2.0))], true);
    assert!(e.contains("no final observation row"), "{e}");
    let e = message(&[(0, 0, Some(1.0)), (1, 1, None)], true);
    assert!(e.contains(":2: field `episode_id`"), "{e}");
    let e = message(&[(0, 0, Some(f64::NAN)), (0, 1, None)], true);
    assert!(
        e.contains("rewards[0]") && e.contains("non-finite reward"),
        "{e}"
    );
    let e = message(&[(0, 0, Some(1.0)), (0, 1, None)], false);
    assert!(e.contains("choicelab.metadata"), "{e}");
    let missing = dir.path().join("missing.parquet");
    let e = Episodes::read_parquet(&missing).unwrap_err().to_string();
    assert!(e.contains("missing.parquet"), "{e}");
}
