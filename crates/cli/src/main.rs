//! `choicelab`: run studies, solve MDPs, roll out the classic-control worlds and fetch the
//! public data sets.

mod ask;
mod data;
mod env;
mod esn;
mod fit;
mod model;
mod output;
mod progress;
mod run;
mod runtime;
mod solve;
mod solve_beyond;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// choicelab: learn what agents value from the choices they make, and decide well with it.
#[derive(Parser)]
#[command(name = "choicelab", version, about)]
struct Cli {
    /// Silence progress bars on stderr.
    #[arg(long, global = true)]
    quiet: bool,
    /// Worker threads for parallel work (default: one per core); results do not depend on it.
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the studies with a one-line description.
    Studies,
    /// Run a study and write its report.
    Run(run::RunArgs),
    /// Fit a utility model to observed choices.
    Fit(fit::FitArgs),
    /// Solve a tabular MDP from a CSV or JSON file.
    Solve(solve::SolveArgs),
    /// Score a plain echo-state network on a benchmark task, timed (one JSON line per seed).
    Esn(esn::EsnArgs),
    /// Roll out gymnasium's classic-control worlds.
    #[command(subcommand)]
    Env(env::EnvCommand),
    /// List, download or generate data sets.
    #[command(subcommand)]
    Data(DataCommand),
    /// List or fetch local language models.
    #[command(subcommand)]
    Model(model::ModelCommand),
    /// Ask the local language model or an OpenAI-compatible endpoint one question.
    Ask(ask::AskArgs),
}

#[derive(Subcommand)]
enum DataCommand {
    /// List the data sets and whether each is present in the data folder.
    List {
        /// Data folder (default: $CHOICELAB_DATA, then the user cache folder).
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// Download data sets from their public sources and verify their sha256.
    Fetch {
        /// Data sets to fetch (default: all).
        names: Vec<String>,
        /// Where to put them (default: $CHOICELAB_DATA, then the user cache folder).
        #[arg(long, value_name = "DIR")]
        dest: Option<PathBuf>,
        /// Base URL of a mirror laid out like the data folder, used instead of the sources.
        #[arg(long, value_name = "URL")]
        mirror: Option<String>,
    },
    /// Train an online TD3 agent in a world and write D4RL-style data sets as Parquet.
    Generate(data::GenerateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match runtime::configure(cli.threads).and_then(|()| execute(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn execute(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Studies => run::list_studies(),
        Command::Run(args) => run::run(args, cli.quiet),
        Command::Fit(args) => fit::fit(args),
        Command::Solve(args) => solve::solve(args, cli.quiet),
        Command::Esn(args) => esn::esn(args),
        Command::Env(command) => env::env(command),
        Command::Data(DataCommand::List { data }) => data::list(data.as_deref()),
        Command::Data(DataCommand::Fetch {
            names,
            dest,
            mirror,
        }) => data::fetch(&names, dest, mirror.as_deref(), cli.quiet),
        Command::Data(DataCommand::Generate(args)) => data::generate(&args, cli.quiet),
        Command::Model(command) => model::model(command, cli.quiet),
        Command::Ask(args) => ask::ask(args, cli.threads),
    }
}
