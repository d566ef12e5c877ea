//! The delivery world against the shipped board's reward function, its move rules, random
//! boards and clear errors.

use std::path::PathBuf;

use choicelab_envs::delivery::{
    BoardDesign, Cell, DeliveryBoard, MudCell, FEATURES, MOVES, TRUE_WEIGHTS,
};

const BOARD: &str = "delivery/2021-07-29_sparseboard2-notrap_board.json";
const REWARDS: &str = "delivery/2021-07-29_sparseboard2-notrap_rewards_function.json";

#[test]
fn the_shipped_reward_function_is_the_true_weights_on_our_features() {
    let Some(dir) = std::env::var_os("CHOICELAB_DATA") else {
        eprintln!("CHOICELAB_DATA unset: the delivery golden test is skipped");
        return;
    };
    let dir = PathBuf::from(dir);
    let board = DeliveryBoard::from_path(&dir.join(BOARD)).expect("the shipped board");
    assert_eq!((board.rows(), board.cols()), (10, 10));
    let text = std::fs::read_to_string(dir.join(REWARDS)).expect("the reward function");
    let shipped: Vec<Vec<Vec<f64>>> = serde_json::from_str(&text).expect("rows × cols × 4");
    let ours = board.rewards(&TRUE_WEIGHTS);
    for (s, reward) in ours.chunks_exact(MOVES.len()).enumerate() {
        let (r, c) = board.position(s);
        assert_eq!(
            reward,
            shipped[r][c].as_slice(),
            "cell ({r}, {c}) {:?}",
            board.cell(s)
        );
    }
    assert_eq!(board.start_states().len(), 100 - 3 - 4 - 1);
    assert_eq!(FEATURES.len(), TRUE_WEIGHTS.len());
}

fn small_board() -> DeliveryBoard {
    // 3 × 3:   blank  house  goal
    //          mud    coin   sheep
    //          blank  blank  blank
    let cells = [0u8, 2, 1, 6, 4, 3, 0, 0, 0]
        .iter()
        .map(|c| Cell::from_code(*c).unwrap())
        .collect();
    DeliveryBoard::new(3, 3, cells).unwrap()
}

#[test]
fn moves_follow_the_rules() {
    let board = small_board();
    let (up, down, left, right) = (0, 1, 2, 3);
    // Off the board or into a house: stay and pay gas (mud when standing in mud).
    let bump = board.step(0, up);
    assert_eq!(
        (bump.next, bump.features),
        (0, [1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    );
    assert_eq!(board.step(0, right).next, 0);
    let mud_bump = board.step(3, left);
    assert_eq!((mud_bump.next, mud_bump.features[5]), (3, 1.0));
    // Into mud, a coin, the goal and a sheep.
    assert_eq!(board.step(0, down).features, [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
    assert_eq!(
        board.step(3, right).features,
        [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    );
    assert_eq!(board.step(5, up).features, [0.0; 6], "a terminal absorbs");
    assert_eq!(
        board.step(4, right).features,
        [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    );
    let to_goal = board.step(5, up);
    assert_eq!(to_goal.next, 5);
    assert_eq!(board.step(2, down).next, 2, "nothing leaves the goal");
    assert_eq!(board.step(8, up).features[2], 1.0);
    assert_eq!(board.step(8, up).next, 5);
    // The MDP carries the same rewards and one successor per move.
    let mdp = board.to_mdp(&TRUE_WEIGHTS).unwrap();
    assert_eq!(mdp.rewards(), board.rewards(&TRUE_WEIGHTS).as_slice());
    for code in 0..12 {
        assert_eq!(Cell::from_code(code).unwrap().code(), code);
    }
    assert!(Cell::from_code(12).is_none());
    assert_eq!(board.start_states(), [0, 3, 4, 6, 7, 8]);
}

#[test]
fn random_boards_have_the_designed_make_up_and_are_seeded() {
    let design = BoardDesign::default();
    let board = DeliveryBoard::random(&design, 3).unwrap();
    assert_eq!(board, DeliveryBoard::random(&design, 3).unwrap());
    assert_ne!(board, DeliveryBoard::random(&design, 4).unwrap());
    let count =
        |f: &dyn Fn(Cell) -> bool| (0..board.states()).filter(|&s| f(board.cell(s))).count();
    assert_eq!(count(&|c| c.is_mud()), design.mud);
    assert_eq!(count(&|c| c.is_blocking()), design.houses);
    assert_eq!(
        count(&|c| matches!(c, Cell::Goal | Cell::Mud(MudCell::Goal))),
        design.goals
    );
    assert_eq!(
        count(&|c| matches!(c, Cell::Sheep | Cell::Mud(MudCell::Sheep))),
        design.sheep
    );
    assert_eq!(
        count(&|c| matches!(c, Cell::Coin | Cell::Mud(MudCell::Coin))),
        design.coins
    );
    let crowded = BoardDesign {
        houses: 90,
        ..design.clone()
    };
    assert!(DeliveryBoard::random(&crowded, 1).is_err());
    let no_goal = BoardDesign { goals: 0, ..design };
    assert!(DeliveryBoard::random(&no_goal, 1).is_err());
}

#[test]
fn bad_boards_are_reported() {
    let error = |text: &str| {
        DeliveryBoard::from_json_str(text, "board.json")
            .unwrap_err()
            .to_string()
    };
    assert!(error("[[0, 1], [0]]").contains("row 1"));
    let bad_code = error("[[0, 12.0]]");
    assert!(
        bad_code.contains("row 0, column 1") && bad_code.contains("12"),
        "{bad_code}"
    );
    assert!(error("[[0, 2.5]]").contains("not a cell code"));
    assert!(error("[[0, \"x\"]]").contains("not a number"));
    assert!(error("{").contains("board.json"));
    assert!(error("[]").contains("cells"));
}
