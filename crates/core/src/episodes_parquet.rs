//! [`Episodes`] as Parquet (feature `parquet`): one row per observation, so an episode of `T`
//! steps is `T + 1` rows.
//!
//! Columns: `episode_id` (u64), `episode_seed` (u64, null when unknown), `step` (u32, 0 to
//! `T`), `observation` (fixed-size list of f32), `action` (fixed-size list of f32, or u32 for
//! discrete actions), `reward` (f64), `termination` and `truncation` (bool). Row `t < T` holds
//! observation `t` with the action taken there and what followed; the last row of an episode
//! holds the final observation and nulls in the four step columns, as Minari's `T + 1`
//! observations against `T` of everything else. The data-set metadata is JSON under the file's
//! key `choicelab.metadata`. Rows of one episode are consecutive and in step order.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, FixedSizeListBuilder, Float32Builder, Float64Builder, UInt32Builder,
    UInt64Builder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, UInt32Type, UInt64Type};
use arrow_array::{Array, ArrayRef, FixedSizeListArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use crate::episodes::{Actions, DatasetMetadata, EpisodeData, Episodes};
use crate::error::{Error, Location, Result};

/// The key-value entry that carries the data-set metadata.
const METADATA_KEY: &str = "choicelab.metadata";

/// Rows per record batch (and so an upper bound on memory per write).
const BATCH_ROWS: usize = 65_536;

impl Episodes {
    /// Writes the data set to `path` as Parquet (snappy-compressed).
    pub fn write_parquet(&self, path: &Path) -> Result<()> {
        self.validate(&path.display().to_string())?;
        let schema = self.schema();
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_key_value_metadata(Some(vec![KeyValue::new(
                METADATA_KEY.to_string(),
                serde_json::to_string(&self.metadata).expect("metadata serialises"),
            )]))
            .build();
        let failed = |e: parquet::errors::ParquetError| {
            Error::invalid(Location::new(path.display().to_string()), e.to_string())
        };
        let mut writer =
            ArrowWriter::try_new(file, schema.clone(), Some(properties)).map_err(failed)?;
        let mut start = 0;
        while start < self.episodes.len() {
            let mut end = start;
            let mut rows = 0;
            while end < self.episodes.len() && (end == start || rows < BATCH_ROWS) {
                rows += self.episodes[end].len() + 1;
                end += 1;
            }
            writer
                .write(&self.batch(&schema, &self.episodes[start..end])?)
                .map_err(failed)?;
            start = end;
        }
        writer.close().map_err(failed)?;
        Ok(())
    }

    /// Reads a data set written by [`Episodes::write_parquet`] (or any file with its columns),
    /// naming the file, the row and the column in errors, then checks it like
    /// [`Episodes::validate`].
    pub fn read_parquet(path: &Path) -> Result<Self> {
        let source = path.display().to_string();
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let failed =
            |e: &dyn std::fmt::Display| Error::parse(Location::new(&source), e.to_string());
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| failed(&e))?;
        let metadata_json = builder
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .and_then(|kv| kv.iter().find(|e| e.key == METADATA_KEY))
            .and_then(|e| e.value.clone())
            .ok_or_else(|| {
                Error::parse(
                    Location::new(&source).field(METADATA_KEY),
                    "the file has no data-set metadata",
                )
            })?;
        let metadata: DatasetMetadata = serde_json::from_str(&metadata_json)
            .map_err(|e| Error::parse(Location::new(&source).field(METADATA_KEY), e.to_string()))?;
        let mut assembler = Assembler::new(&source);
        for batch in builder.build().map_err(|e| failed(&e))? {
            assembler.push(&batch.map_err(|e| failed(&e))?)?;
        }
        let episodes = assembler.finish()?;
        let data = Episodes { metadata, episodes };
        data.validate(&source)?;
        Ok(data)
    }

    /// The Arrow schema of this data set.
    fn schema(&self) -> SchemaRef {
        let action = match self.episodes.first().map(|e| &e.actions) {
            Some(Actions::Discrete(_)) => DataType::UInt32,
            Some(Actions::Continuous(rows)) => list_type(rows.first().map_or(1, Vec::len)),
            None => list_type(1),
        };
        Arc::new(Schema::new(vec![
            Field::new("episode_id", DataType::UInt64, false),
            Field::new("episode_seed", DataType::UInt64, true),
            Field::new("step", DataType::UInt32, false),
            Field::new(
                "observation",
                list_type(self.observation_dim().max(1)),
                false,
            ),
            Field::new("action", action, true),
            Field::new("reward", DataType::Float64, true),
            Field::new("termination", DataType::Boolean, true),
            Field::new("truncation", DataType::Boolean, true),
        ]))
    }

    /// One record batch holding `episodes`.
    fn batch(&self, schema: &SchemaRef, episodes: &[EpisodeData]) -> Result<RecordBatch> {
        let obs_dim = self.observation_dim();
        let rows: usize = episodes.iter().map(|e| e.len() + 1).sum();
        let mut id = UInt64Builder::with_capacity(rows);
        let mut seed = UInt64Builder::with_capacity(rows);
        let mut step = UInt32Builder::with_capacity(rows);
        let mut observation = list_builder(obs_dim, rows);
        let mut reward = Float64Builder::with_capacity(rows);
        let mut termination = BooleanBuilder::with_capacity(rows);
        let mut truncation = BooleanBuilder::with_capacity(rows);
        let mut continuous = None;
        let mut discrete = None;
        match episodes.first().map(|e| &e.actions) {
            Some(Actions::Continuous(a)) => {
                continuous = Some(list_builder(a.first().map_or(1, Vec::len), rows))
            }
            _ => discrete = Some(UInt32Builder::with_capacity(rows)),
        }
        for e in episodes {
            for (t, obs) in e.observations.iter().enumerate() {
                id.append_value(e.id);
                seed.append_option(e.seed);
                step.append_value(u32::try_from(t).map_err(|_| {
                    Error::invalid(
                        Location::new("<episodes>").field(format!("episode {}.step", e.id)),
                        "more than 2³² steps",
                    )
                })?);
                observation.values().append_slice(obs);
                observation.append(true);
                let last = t == e.len();
                match (&e.actions, &mut continuous, &mut discrete) {
                    (Actions::Continuous(a), Some(b), _) => {
                        let width = b.value_length() as usize;
                        if last {
                            b.values().append_nulls(width);
                            b.append(false);
                        } else {
                            b.values().append_slice(&a[t]);
                            b.append(true);
                        }
                    }
                    (Actions::Discrete(a), _, Some(b)) => {
                        b.append_option((!last).then(|| a[t]));
                    }
                    _ => unreachable!("validate() checked one action kind"),
                }
                reward.append_option((!last).then(|| e.rewards[t]));
                termination.append_option((!last).then(|| e.terminations[t]));
                truncation.append_option((!last).then(|| e.truncations[t]));
            }
        }
        let action: ArrayRef = match (continuous, discrete) {
            (Some(mut b), _) => Arc::new(b.finish()),
            (_, Some(mut b)) => Arc::new(b.finish()),
            _ => unreachable!("one builder was made"),
        };
        let columns: Vec<ArrayRef> = vec![
            Arc::new(id.finish()),
            Arc::new(seed.finish()),
            Arc::new(step.finish()),
            Arc::new(observation.finish()),
            action,
            Arc::new(reward.finish()),
            Arc::new(termination.finish()),
            Arc::new(truncation.finish()),
        ];
        RecordBatch::try_new(schema.clone(), columns)
            .map_err(|e| Error::invalid(Location::new("<episodes>"), e.to_string()))
    }
}

/// A fixed-size list of non-null f32 of `width`.
fn list_type(width: usize) -> DataType {
    DataType::FixedSizeList(
        Arc::new(Field::new("item", DataType::Float32, false)),
        width as i32,
    )
}

/// A builder of fixed-size f32 lists whose items are non-null.
fn list_builder(width: usize, rows: usize) -> FixedSizeListBuilder<Float32Builder> {
    FixedSizeListBuilder::with_capacity(
        Float32Builder::with_capacity(rows * width),
        width as i32,
        rows,
    )
    .with_field(Arc::new(Field::new("item", DataType::Float32, false)))
}

/// Rebuilds episodes from consecutive rows, checking the layout as it goes.
struct Assembler<'a> {
    source: &'a str,
    row: u64,
    episodes: Vec<EpisodeData>,
    /// The episode being read, and whether the previous row was its final observation.
    open: Option<EpisodeData>,
}

/// One row's step columns: the action, reward, termination and truncation.
type StepColumns = (Option<StepAction>, Option<f64>, Option<bool>, Option<bool>);

/// One row's action.
enum StepAction {
    Continuous(Vec<f32>),
    Discrete(u32),
}

impl<'a> Assembler<'a> {
    fn new(source: &'a str) -> Self {
        Self {
            source,
            row: 0,
            episodes: Vec::new(),
            open: None,
        }
    }

    /// Where row `self.row`'s `column` is, for errors (rows count from 1, like lines).
    fn at(&self, column: &str) -> Location {
        Location::new(self.source).line(self.row + 1).field(column)
    }

    fn push(&mut self, batch: &RecordBatch) -> Result<()> {
        let column = |name: &str| {
            batch.column_by_name(name).ok_or_else(|| {
                Error::parse(
                    Location::new(self.source).field(name),
                    "the file has no such column",
                )
            })
        };
        let ids = typed::<UInt64Type>(column("episode_id")?, self.at("episode_id"))?;
        let seeds = typed::<UInt64Type>(column("episode_seed")?, self.at("episode_seed"))?;
        let steps = typed::<UInt32Type>(column("step")?, self.at("step"))?;
        let observations = list(column("observation")?, self.at("observation"))?;
        let rewards = typed::<Float64Type>(column("reward")?, self.at("reward"))?;
        let terminations = column("termination")?
            .as_boolean_opt()
            .ok_or_else(|| Error::parse(self.at("termination"), "expected booleans"))?;
        let truncations = column("truncation")?
            .as_boolean_opt()
            .ok_or_else(|| Error::parse(self.at("truncation"), "expected booleans"))?;
        let actions = column("action")?;
        let (continuous, discrete) = match actions.data_type() {
            DataType::UInt32 => (None, actions.as_primitive_opt::<UInt32Type>()),
            _ => (Some(list(actions, self.at("action"))?), None),
        };
        let observation_values = observations.values().as_primitive::<Float32Type>();
        let action_values = continuous.map(|a| (a, a.values().as_primitive::<Float32Type>()));
        for i in 0..batch.num_rows() {
            if ids.is_null(i) || steps.is_null(i) || observations.is_null(i) {
                return Err(Error::parse(
                    self.at("episode_id/step/observation"),
                    "null in a column that must be set",
                ));
            }
            let width = observations.value_length() as usize;
            let offset = observations.value_offset_at(i);
            let observation = observation_values.values()[offset..offset + width].to_vec();
            let action = match (&action_values, discrete) {
                (Some((a, values)), _) if a.is_valid(i) => {
                    let width = a.value_length() as usize;
                    let offset = a.value_offset_at(i);
                    Some(StepAction::Continuous(
                        values.values()[offset..offset + width].to_vec(),
                    ))
                }
                (None, Some(d)) if d.is_valid(i) => Some(StepAction::Discrete(d.value(i))),
                _ => None,
            };
            let step_columns: StepColumns = (
                action,
                rewards.is_valid(i).then(|| rewards.value(i)),
                terminations.is_valid(i).then(|| terminations.value(i)),
                truncations.is_valid(i).then(|| truncations.value(i)),
            );
            let seed = seeds.is_valid(i).then(|| seeds.value(i));
            self.row_in(
                ids.value(i),
                seed,
                steps.value(i),
                observation,
                step_columns,
            )?;
            self.row += 1;
        }
        Ok(())
    }

    /// Adds one row to the open episode, opening or closing episodes as the layout says.
    fn row_in(
        &mut self,
        id: u64,
        seed: Option<u64>,
        step: u32,
        observation: Vec<f32>,
        (action, reward, termination, truncation): StepColumns,
    ) -> Result<()> {
        let expected = self.open.as_ref().map_or(0, |e| e.observations.len());
        if step as usize != expected {
            return Err(Error::parse(
                self.at("step"),
                format!("step {step}, expected {expected} (rows of an episode are consecutive)"),
            ));
        }
        let episode = self.open.get_or_insert_with(|| EpisodeData {
            id,
            seed,
            observations: Vec::new(),
            actions: match action {
                Some(StepAction::Discrete(_)) => Actions::Discrete(Vec::new()),
                _ => Actions::Continuous(Vec::new()),
            },
            rewards: Vec::new(),
            terminations: Vec::new(),
            truncations: Vec::new(),
        });
        if episode.id != id {
            return Err(Error::parse(
                Location::new(self.source)
                    .line(self.row + 1)
                    .field("episode_id"),
                format!("episode {} ends without a final row", episode.id),
            ));
        }
        episode.observations.push(observation);
        match (action, reward, termination, truncation) {
            (None, None, None, None) => {
                let done = self.open.take().expect("an open episode");
                self.episodes.push(done);
            }
            (Some(a), Some(r), Some(te), Some(tr)) => {
                match (&mut episode.actions, a) {
                    (Actions::Continuous(rows), StepAction::Continuous(row)) => rows.push(row),
                    (Actions::Discrete(rows), StepAction::Discrete(k)) => rows.push(k),
                    _ => {
                        return Err(Error::parse(
                            Location::new(self.source)
                                .line(self.row + 1)
                                .field("action"),
                            "actions mix continuous and discrete",
                        ))
                    }
                }
                episode.rewards.push(r);
                episode.terminations.push(te);
                episode.truncations.push(tr);
            }
            _ => {
                return Err(Error::parse(
                    Location::new(self.source)
                        .line(self.row + 1)
                        .field("action/reward/termination/truncation"),
                    "set on a step row, null on an episode's final row; this row mixes them",
                ))
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Vec<EpisodeData>> {
        if let Some(open) = self.open {
            return Err(Error::parse(
                Location::new(self.source).line(self.row).field("step"),
                format!("episode {} has no final observation row", open.id),
            ));
        }
        Ok(self.episodes)
    }
}

/// `array` as a primitive array of `T`, or an error at `at`.
fn typed<T: arrow_array::ArrowPrimitiveType>(
    array: &ArrayRef,
    at: Location,
) -> Result<&arrow_array::PrimitiveArray<T>> {
    array
        .as_primitive_opt::<T>()
        .ok_or_else(|| Error::parse(at, format!("expected {}", T::DATA_TYPE)))
}

/// `array` as a fixed-size list of f32, or an error at `at`.
fn list(array: &ArrayRef, at: Location) -> Result<&FixedSizeListArray> {
    let list = array
        .as_fixed_size_list_opt()
        .ok_or_else(|| Error::parse(at.clone(), "expected a fixed-size list of f32"))?;
    if list.value_type() != DataType::Float32 {
        return Err(Error::parse(
            at,
            format!("list items are {}, expected f32", list.value_type()),
        ));
    }
    Ok(list)
}
