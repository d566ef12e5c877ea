//! The data catalogue compiled into the binary: the data sets, where their files come from,
//! and each file's size and sha256 (`catalogue.tsv`, one file a line).

use anyhow::{anyhow, bail, Context};

/// One public data set: a subfolder of the data folder.
pub struct DataSet {
    /// The subfolder name, also the name `choicelab data fetch` takes.
    pub name: &'static str,
    /// What it is, in one line.
    pub description: &'static str,
    /// The paper to cite.
    pub citation: &'static str,
    /// The licence as found at the source.
    pub licence: &'static str,
}

/// Where a file's bytes come from.
pub enum Origin {
    /// A GitHub repository at a pinned commit.
    GitHub {
        /// `OWNER/REPO`.
        repo: &'static str,
        /// The full commit hash.
        commit: &'static str,
    },
    /// A member of one archive of a PyPI release.
    PyPi {
        /// The package name.
        package: &'static str,
        /// The release version.
        version: &'static str,
        /// The archive's file name in the release.
        archive: &'static str,
        /// The archive's sha256, as PyPI lists it.
        archive_sha256: &'static str,
    },
}

/// One data file of the catalogue.
pub struct DataFile {
    /// Path relative to the data folder; its first component is the data set.
    pub path: &'static str,
    /// Size in bytes.
    pub size: u64,
    /// Expected sha256, lower-case hex.
    pub sha256: &'static str,
    /// Where it comes from.
    pub origin: &'static Origin,
    /// Its path in the origin's repository or archive.
    pub source_path: &'static str,
}

impl DataFile {
    /// The data set the file belongs to.
    pub fn set(&self) -> &'static str {
        self.path.split('/').next().unwrap_or(self.path)
    }
}

/// The data sets, in the order `choicelab data list` shows them.
pub const SETS: &[DataSet] = &[
    DataSet {
        name: "bus",
        description: "Rust (1987) bus-engine replacement data: odometer readings of 162 Madison Metro buses",
        citation: "Rust, J. (1987). Optimal Replacement of GMC Bus Engines: An Empirical Model of Harold Zurcher. Econometrica 55(5):999-1033.",
        licence: "MIT (OpenSourceEconomics/zurcher-data LICENSE); no separate data licence found",
    },
    DataSet {
        name: "choix",
        description: "Golden test cases for Bradley-Terry / Plackett-Luce estimation (pairwise, rankings, top-1)",
        citation: "Maystre, L. & Grossglauser, M. (2015). Fast and Accurate Inference of Plackett-Luce Models. NeurIPS 2015.",
        licence: "MIT (lucasmaystre/choix LICENSE)",
    },
    DataSet {
        name: "swissmetro",
        description: "Swissmetro stated-preference mode choice: 10,728 rows, CHOICE 1=train, 2=SM, 3=car",
        citation: "Bierlaire, M., Axhausen, K. & Abay, G. (2001). The acceptance of modal innovation: The case of Swissmetro. STRC 2001; and Bierlaire, M. (2003). BIOGEME. STRC 2003.",
        licence: "biogeme LICENSE: custom, free of charge, citation requested, AS IS; no separate data licence",
    },
    DataSet {
        name: "choices13k",
        description: "choices13k: human choice rates on 13,006 risky-choice gamble pairs, with the problems",
        citation: "Peterson, J. C. et al. (2021). Using large-scale experiments and machine learning to discover theories of human decision-making. Science 372(6547):1209-1214.",
        licence: "no licence file; the README asks for citation",
    },
    DataSet {
        name: "utility-engineering",
        description: "Option sets for eliciting utilities (hierarchical shared options, implicit lotteries)",
        citation: "Mazeika, M. et al. (2025). Utility Engineering: Analyzing and Controlling Emergent Value Systems in AIs. arXiv:2502.08640.",
        licence: "MIT (centerforaisafety/emergent-values LICENSE)",
    },
    DataSet {
        name: "dailydilemmas",
        description: "DailyDilemmas: 1,360 everyday dilemmas, value-to-theory map, by-action test excerpt",
        citation: "Chiu, Y. Y., Jiang, L. & Choi, Y. (2025). DailyDilemmas: Revealing Value Preferences of LLMs with Quandaries of Daily Life. ICLR 2025.",
        licence: "CC BY 4.0 (kellycyy/daily_dilemmas LICENSE)",
    },
    DataSet {
        name: "marketplace",
        description: "Magentic Marketplace scenarios: businesses, customers and baseline utilities",
        citation: "Bansal, G. et al. (2025). Magentic Marketplace: An Open-Source Environment for Studying Agentic Markets. arXiv:2510.25779.",
        licence: "MIT (microsoft/multi-agent-marketplace LICENSE)",
    },
    DataSet {
        name: "rtb",
        description: "iPinYou real-time-bidding campaign statistics, campaign 2997's test log, RLB results",
        citation: "Cai, H. et al. (2017). Real-Time Bidding by Reinforcement Learning in Display Advertising. WSDM 2017.",
        licence: "no licence file; the iPinYou data has its own terms",
    },
    DataSet {
        name: "dlb",
        description: "DynLin-UCB experiment configurations: linear systems, horizons, budgets, noise",
        citation: "Mussi, M., Metelli, A. M. & Restelli, M. (2023). Dynamical Linear Bandits. ICML 2023.",
        licence: "MIT (marcomussi/DLB LICENSE)",
    },
    DataSet {
        name: "riverswim",
        description: "6-state RiverSwim MDP as a transition table",
        citation: "Strehl, A. L. & Littman, M. L. (2008). An analysis of model-based Interval Estimation for Markov Decision Processes. JCSS 74(8):1309-1331.",
        licence: "MIT (marekpetrik/craam2 LICENSE)",
    },
    DataSet {
        name: "delivery",
        description: "Delivery gridworld board and rewards, human segment-pair preferences (9 conditions)",
        citation: "Knox, W. B. et al. Models of human preference for learning reward functions. TMLR 2024; Hatgis-Kessell, S. et al. (2025). arXiv:2501.06416.",
        licence: "no licence file in either repository",
    },
    DataSet {
        name: "digits",
        description: "UCI optical handwritten digits: 1,797 rows of 64 pixels plus the label, gzipped CSV",
        citation: "Alpaydin, E. & Kaynak, C. (1998). Optical Recognition of Handwritten Digits. UCI ML Repository.",
        licence: "BSD-3-Clause (scikit-learn COPYING); no separate data licence",
    },
];

/// The origins named in the catalogue's fourth column.
const ORIGINS: &[(&str, Origin)] = &[
    (
        "zurcher-data",
        github(
            "OpenSourceEconomics/zurcher-data",
            "d39eb4d6da1cbdcadf7e5594672bb8495e3394b0",
        ),
    ),
    (
        "choix",
        github(
            "lucasmaystre/choix",
            "7494ad31fde2f688196dc190d55673d930456366",
        ),
    ),
    (
        "choices13k",
        github(
            "jcpeterson/choices13k",
            "582d85521f3b0f246401ddb5cbb2682c84257652",
        ),
    ),
    (
        "emergent-values",
        github(
            "centerforaisafety/emergent-values",
            "313ec33b9972f3d04bba084c65d0d7fa66009a9f",
        ),
    ),
    (
        "daily_dilemmas",
        github(
            "kellycyy/daily_dilemmas",
            "3b579ab5d9ec44e1c68597f84f6fde8eee34783e",
        ),
    ),
    (
        "multi-agent-marketplace",
        github(
            "microsoft/multi-agent-marketplace",
            "fdaf34d1696e301a6df20417b78be4ab1ff18c02",
        ),
    ),
    (
        "rlb-dp",
        github("han-cai/rlb-dp", "1eeb9e475b7740567a4e6aa9813cb3700a1282bb"),
    ),
    (
        "DLB",
        github("marcomussi/DLB", "7fb103ece322779626e09f937c73c538c90258f9"),
    ),
    (
        "craam2",
        github(
            "marekpetrik/craam2",
            "b07f4547d578626c698cbc660495dbf6f179a672",
        ),
    ),
    (
        "Learning-OA-From-Prefs",
        github(
            "Stephanehk/Learning-OA-From-Prefs",
            "2de458b6805936186df3cccb5aca549414b73b5d",
        ),
    ),
    (
        "InfluencingHumanPrefs",
        github(
            "Stephanehk/InfluencingHumanPrefs",
            "54ad2720c1d5638574fc5d788a53008aef2c1c12",
        ),
    ),
    (
        "biogeme",
        Origin::PyPi {
            package: "biogeme",
            version: "3.3.2",
            archive: "biogeme-3.3.2.tar.gz",
            archive_sha256: "04fd59c93fa3eafc4a3af229f31601727b9f76b9fe64792b5bbf84b6c9c87d7c",
        },
    ),
    (
        "scikit-learn",
        Origin::PyPi {
            package: "scikit-learn",
            version: "1.9.1",
            archive:
                "scikit_learn-1.9.1-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
            archive_sha256: "52a0703bbc07ad27f560fa63fa68e4c54dd735bfbbf65b4dd3c225dc7547b6df",
        },
    ),
];

const fn github(repo: &'static str, commit: &'static str) -> Origin {
    Origin::GitHub { repo, commit }
}

/// The file list, one tab-separated line per file.
const TABLE: &str = include_str!("catalogue.tsv");

/// Reads the compiled-in file list.
pub fn files() -> anyhow::Result<Vec<DataFile>> {
    TABLE
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.starts_with('#') && !line.trim().is_empty())
        .map(|(index, line)| {
            parse_line(line).with_context(|| format!("catalogue.tsv line {}", index + 1))
        })
        .collect()
}

fn parse_line(line: &'static str) -> anyhow::Result<DataFile> {
    let fields: Vec<&'static str> = line.split('\t').collect();
    let [path, size, sha256, origin, source_path] = fields[..] else {
        bail!("expected 5 tab-separated fields, found {}", fields.len());
    };
    let origin = ORIGINS
        .iter()
        .find(|(key, _)| *key == origin)
        .map(|(_, origin)| origin)
        .ok_or_else(|| anyhow!("unknown origin {origin:?}"))?;
    let size = size.parse().with_context(|| format!("size {size:?}"))?;
    Ok(DataFile {
        path,
        size,
        sha256,
        origin,
        source_path,
    })
}

/// The data set called `name`, or an error listing the valid names.
pub fn set(name: &str) -> anyhow::Result<&'static DataSet> {
    SETS.iter().find(|set| set.name == name).ok_or_else(|| {
        let names: Vec<&str> = SETS.iter().map(|set| set.name).collect();
        anyhow!(
            "unknown data set {name:?}; valid names: {}",
            names.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn every_file_is_well_formed_and_in_a_known_set() {
        let files = files().unwrap();
        assert_eq!(files.len(), 1297);
        for file in &files {
            assert!(set(file.set()).is_ok(), "{}", file.path);
            assert!(file.sha256.len() == 64 && file.sha256.bytes().all(|b| b.is_ascii_hexdigit()));
            assert!(file
                .path
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != ".."));
            // Paths go into URLs as they are, so they must need no percent-encoding.
            let url_safe = |path: &str| {
                path.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-=/".contains(&b))
            };
            assert!(
                url_safe(file.path) && url_safe(file.source_path),
                "{}",
                file.path
            );
        }
        for data_set in SETS {
            assert!(
                files.iter().any(|file| file.set() == data_set.name),
                "{}",
                data_set.name
            );
        }
    }

    #[test]
    fn catalogue_covers_sha256sums_exactly_once() {
        let Some(root) = std::env::var_os("CHOICELAB_DATA") else {
            eprintln!("skipped: CHOICELAB_DATA is not set");
            return;
        };
        let sums = std::fs::read_to_string(std::path::Path::new(&root).join("SHA256SUMS")).unwrap();
        let mut catalogue: BTreeMap<&str, &str> = BTreeMap::new();
        for file in files().unwrap() {
            assert!(
                catalogue.insert(file.path, file.sha256).is_none(),
                "{} twice",
                file.path
            );
        }
        let mut listed = 0;
        for line in sums.lines().filter(|line| !line.trim().is_empty()) {
            let (sha256, path) = line.split_once("  ").unwrap();
            assert_eq!(catalogue.get(path), Some(&sha256), "{path}");
            listed += 1;
        }
        assert_eq!(listed, catalogue.len());
    }
}
