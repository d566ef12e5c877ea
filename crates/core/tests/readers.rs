//! The MDP readers and checks: formats, layouts and the errors they give.

use choicelab_core::{random_sparse_mdp, Error, TabularMdp};

const HEADER: &str = "idstatefrom,idaction,idstateto,probability,reward\n";

fn csv(text: &str) -> choicelab_core::Result<TabularMdp> {
    TabularMdp::from_csv_reader(text.as_bytes(), "test.csv")
}

#[test]
fn row_order_does_not_matter_and_rewards_are_expected_values() {
    let sorted = csv(&format!(
        "{HEADER}0,0,0,0.25,4\n0,0,1,0.75,0\n0,1,1,1,2\n1,0,0,1,1\n"
    ))
    .unwrap();
    let shuffled = csv(
        "idstateto,reward,idstatefrom,probability,idaction\n0,1,1,1,0\n1,0,0,0.75,0\n1,2,0,1,1\n0,4,0,0.25,0\n",
    )
    .unwrap();
    assert_eq!(sorted, shuffled);
    assert_eq!(sorted.reward(0, 0), 1.0);
    assert_eq!(sorted.reward(0, 1), 2.0);
    // State 1 has no rows for action 1: infeasible.
    assert!(!sorted.is_feasible(1, 1));
    assert_eq!(
        sorted.transitions(0, 0),
        (&[0u32, 1][..], &[0.25, 0.75][..])
    );
}

#[test]
fn errors_point_at_the_right_line_past_blank_lines() {
    let err = csv(&format!(
        "{HEADER}0,0,0,1,0\n\n\n1,0,0,0.5,0\n1,0,1,0.2,0\n"
    ))
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("test.csv:5: field `probability`"),
        "{text}"
    );
    assert!(matches!(err, Error::Invalid { .. }));
}

#[test]
fn unsorted_rows_still_report_the_first_line_of_a_bad_pair() {
    let err = csv(&format!("{HEADER}1,0,1,0.3,0\n0,0,0,1,0\n1,0,0,0.3,0\n")).unwrap_err();
    assert!(err.to_string().starts_with("test.csv:2:"), "{err}");
}

#[test]
fn json_rewards_and_transitions_must_agree() {
    let reward_without_rows = r#"{"states": 1, "actions": 2, "rewards": [[0, 1]],
        "transitions": [{"state": 0, "action": 0, "next": [0], "probability": [1]}]}"#;
    let err = TabularMdp::from_json_str(reward_without_rows, "m.json").unwrap_err();
    assert!(
        err.to_string()
            .contains("action 1 has a reward but no transitions"),
        "{err}"
    );
    let rows_without_reward = r#"{"states": 1, "actions": 2, "rewards": [[0, null]],
        "transitions": [{"state": 0, "action": 0, "next": [0], "probability": [1]},
                        {"state": 0, "action": 1, "next": [0], "probability": [1]}]}"#;
    let err = TabularMdp::from_json_str(rows_without_reward, "m.json").unwrap_err();
    assert!(
        err.to_string().contains("m.json: field `transitions[1]`"),
        "{err}"
    );
    let unknown = r#"{"states": 1, "actions": 1, "rewards": [[0]], "transitions": [], "extra": 1}"#;
    let err = TabularMdp::from_json_str(unknown, "m.json").unwrap_err();
    assert!(err.to_string().contains("extra"), "{err}");
    let mismatched = r#"{"states": 1, "actions": 1, "rewards": [[0]],
        "transitions": [{"state": 0, "action": 0, "next": [0, 0], "probability": [1]}]}"#;
    let err = TabularMdp::from_json_str(mismatched, "m.json").unwrap_err();
    assert!(
        err.to_string().contains("transitions[0].probability"),
        "{err}"
    );
}

#[test]
fn dense_arrays_are_checked() {
    let err = TabularMdp::from_dense(2, 1, &[1.0, 0.0, 0.0], &[0.0, 0.0]).unwrap_err();
    assert!(
        err.to_string().contains("field `transitions`: length 3"),
        "{err}"
    );
    let err = TabularMdp::from_dense(1, 1, &[1.0], &[f64::NAN]).unwrap_err();
    assert!(err.to_string().contains("reward"), "{err}");
    let err = TabularMdp::from_dense(0, 1, &[], &[]).unwrap_err();
    assert!(err.to_string().contains("at least one state"), "{err}");
}

#[test]
fn random_mdps_are_seeded_and_stochastic() {
    let a = random_sparse_mdp(500, 3, 7, 42).unwrap();
    assert_eq!(a, random_sparse_mdp(500, 3, 7, 42).unwrap());
    assert_ne!(a, random_sparse_mdp(500, 3, 7, 43).unwrap());
    assert_eq!(a.nnz(), 500 * 3 * 7);
    for s in 0..500 {
        for action in 0..3 {
            let (next, prob) = a.transitions(s, action);
            assert!(
                next.windows(2).all(|w| w[0] < w[1]),
                "distinct, sorted successors"
            );
            assert!((prob.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            assert!(prob.iter().all(|&p| p > 0.0));
        }
    }
    assert!(random_sparse_mdp(5, 2, 6, 0).is_err());
    assert!(random_sparse_mdp(0, 2, 1, 0).is_err());
}

#[test]
fn relabelling_checks_its_permutation() {
    let mdp = random_sparse_mdp(4, 2, 2, 1).unwrap();
    assert!(mdp.relabel_states(&[0, 1, 1, 2]).is_err());
    let back = mdp
        .relabel_states(&[3, 2, 1, 0])
        .unwrap()
        .relabel_states(&[3, 2, 1, 0])
        .unwrap();
    assert_eq!(back, mdp);
}

mod comparisons {
    use choicelab_core::{Comparisons, Outcome};

    fn read(text: &str) -> choicelab_core::Result<Comparisons> {
        Comparisons::from_csv_reader(text.as_bytes(), "pairs.csv")
    }

    #[test]
    fn three_layouts_are_read() {
        let wins = read("winner,loser,count\nfig,pear,3\npear,fig,1\n").unwrap();
        assert_eq!(wins.items().names(), ["fig", "pear"]);
        assert_eq!(wins.records()[0].weight, 3.0);
        let named = read("a,b,winner\nfig,pear,pear\nfig,kiwi,tie\n").unwrap();
        assert_eq!(named.records()[0].outcome, Outcome::Second);
        assert_eq!(named.records()[1].outcome, Outcome::Tie);
        let soft = read("a,b,p_a,weight\n\"fig\", pear ,0.25,2\n").unwrap();
        assert_eq!(soft.records()[0].outcome, Outcome::Probability(0.25));
        assert_eq!(soft.records()[0].weight, 2.0);
    }

    #[test]
    fn errors_name_line_and_field() {
        let cases = [
            (
                "a,b,p_a\nfig,pear,0.5\n\nfig,kiwi,1.5\n",
                "pairs.csv:4: field `p_a`: label 1.5 is outside [0, 1]",
            ),
            (
                "winner,loser\nfig,fig\n",
                "pairs.csv:2: field `loser`: item `fig` is compared with itself",
            ),
            (
                "a,b,winner\nfig,pear,kiwi\n",
                "pairs.csv:2: field `winner`: `kiwi` is neither",
            ),
            (
                "winner,loser,count\nfig,pear,-2\n",
                "pairs.csv:2: field `count`: weight -2 must be positive",
            ),
            (
                "winner,loser,count\nfig,pear,x\n",
                "pairs.csv:2: field `count`: `x` is not a number",
            ),
            (
                "winner,loser\nfig\n",
                "pairs.csv:2: row has 1 fields, expected 2",
            ),
            ("x,y\nfig,pear\n", "pairs.csv:1: unknown header"),
            ("winner,loser\n", "pairs.csv:2: no comparisons"),
            ("", "pairs.csv:1: empty file"),
        ];
        for (text, expected) in cases {
            let err = read(text).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{err}\nexpected: {expected}");
        }
    }
}

#[test]
fn rewards_stay_known_per_transition() {
    // RiverSwim's last state pays 10,000 only when the swimmer stays (craam2's riverswim_mdp.csv).
    let mdp = csv("idstatefrom,idaction,idstateto,probability,reward\n\
         0,0,1,0.7,0\n0,0,0,0.3,10000\n1,0,1,1,0\n")
    .unwrap();
    assert_eq!(mdp.transitions(0, 0).0, &[0, 1]);
    assert_eq!(mdp.transition_rewards(0, 0).unwrap(), &[10000.0, 0.0]);
    assert!((mdp.reward(0, 0) - 3000.0).abs() < 1e-9);
    let relabelled = mdp.relabel_states(&[1, 0]).unwrap();
    // The reward follows its successor: staying in (new) state 1 still pays 10,000.
    let (next, _) = relabelled.transitions(1, 0);
    let stay = next.iter().position(|&n| n == 1).unwrap();
    assert_eq!(relabelled.transition_rewards(1, 0).unwrap()[stay], 10000.0);
    let dense = TabularMdp::from_dense(1, 1, &[1.0], &[2.0]).unwrap();
    assert!(dense.transition_rewards(0, 0).is_none());

    let built = TabularMdp::from_entries(
        2,
        1,
        &[
            (0, 0, 1, 0.5, -1.0),
            (0, 0, 1, 0.5, 3.0),
            (1, 0, 1, 1.0, 0.0),
        ],
    )
    .unwrap();
    assert_eq!(built.transition_rewards(0, 0).unwrap(), &[-1.0, 3.0]);
    assert!((built.reward(0, 0) - 1.0).abs() < 1e-12);
    let error = TabularMdp::from_entries(2, 1, &[(0, 0, 2, 1.0, 0.0)]).unwrap_err();
    assert!(error.to_string().contains("entries[0].next"), "{error}");
    let error = TabularMdp::from_entries(2, 1, &[(0, 0, 1, 1.0, f64::NAN), (1, 0, 1, 1.0, 0.0)])
        .unwrap_err();
    assert!(error.to_string().contains("entries[0]"), "{error}");
}
