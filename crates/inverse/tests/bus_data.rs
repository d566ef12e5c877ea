//! Rust's bus data: the panel reproduces the replication literature's counts.

use std::path::PathBuf;

use choicelab_inverse::ddc::{read_bus_group, BusGroup, Panel};

fn bus_folder() -> Option<PathBuf> {
    match std::env::var_os("CHOICELAB_DATA") {
        Some(dir) => Some(PathBuf::from(dir).join("bus")),
        None => {
            eprintln!("CHOICELAB_DATA unset: bus data tests skipped");
            None
        }
    }
}

#[test]
fn group_four_matches_ruspy_counts() {
    let Some(folder) = bus_folder() else { return };
    let panel = read_bus_group(&folder, BusGroup::G4, 5000.0, 90).unwrap();
    assert_eq!(panel.buses.len(), 37);
    assert_eq!(panel.transitions().count(), 4292);
    assert_eq!(panel.usage_counts(), vec![1682, 2555, 55]);
    assert_eq!(panel.replacements(), 33);
}

#[test]
fn groups_one_to_three_have_the_published_sizes() {
    let Some(folder) = bus_folder() else { return };
    let mut pooled = Panel::new(90);
    for group in [BusGroup::G1, BusGroup::G2, BusGroup::G3] {
        pooled
            .extend(read_bus_group(&folder, group, 5000.0, 90).unwrap())
            .unwrap();
    }
    assert_eq!(pooled.buses.len(), 67);
    assert_eq!(pooled.transitions().count(), 3864);
    assert_eq!(pooled.replacements(), 27);
}

#[test]
fn panel_csv_errors_name_line_and_field() {
    let ok = Panel::from_csv_str(
        "bus,period,state,replace\na,0,3,0\na,1,4,1\na,2,1,0\n",
        "p.csv",
        10,
    )
    .unwrap();
    let usage: Vec<_> = ok.observations.iter().map(|o| o.usage).collect();
    assert_eq!(usage, vec![None, Some(1), Some(1)]);
    for (text, expected) in [
        (
            "bus,period,state,replace\na,0,12,0\n",
            "p.csv:2: field `state`: state 12 is out of range",
        ),
        (
            "bus,period,state,replace\na,0,1,2\n",
            "p.csv:2: field `replace`: `2` is not 0 or 1",
        ),
        (
            "bus,period,state,replace\na,0,3,0\na,1,2,0\n",
            "falls from 3 to 2",
        ),
        (
            "bus,period,state,replace\na,0,3,0\na,2,4,0\n",
            "jumps from period 0 to 2",
        ),
        ("bus,period,state,replace\n", "no rows"),
        ("bus,state,replace\n", "lacks column `period`"),
    ] {
        let err = Panel::from_csv_str(text, "p.csv", 10)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{err}");
    }
}
