//! The bidding DP: monotone values, affordable bids, the early exit, and bad input.

use choicelab_mdp::bidding::{lin_bid, mcpc_bid, BidLandscape, BiddingDp};

/// A price histogram over 0..=300 shaped like a campaign's: a bump near 60 with a long tail.
fn counts() -> Vec<u64> {
    (0..=300u64)
        .map(|p| 1000 * p / (1 + (p as i64 - 60).unsigned_abs()) / 4 + (300 - p) / 10)
        .collect()
}

#[test]
fn values_grow_with_budget_and_auctions_and_stop_at_the_budget_free_value() {
    let landscape = BidLandscape::from_counts(&counts(), 1.0).unwrap();
    let dp = BiddingDp::clicks(60, 3000, 0.004);
    let table = dp.solve(&landscape).unwrap();
    assert_eq!(table.rows(), 60);
    for n in 0..60 {
        assert_eq!(table.value(n, 0), 0.0);
        for b in 1..=3000 {
            assert!(
                table.value(n, b) >= table.value(n, b - 1) - 1e-15,
                "b at n={n}, b={b}"
            );
            if n > 0 {
                assert!(
                    table.value(n, b) >= table.value(n - 1, b) - 1e-15,
                    "n at n={n}, b={b}"
                );
            }
            assert!(table.value(n, b) <= table.v_max(n) + 1e-12);
        }
        assert!((table.v_max(n) - 0.004 * n as f64).abs() < 1e-12);
    }
    // With one auction left every affordable price is taken: V₁(b) = θ̄·M(min(b, 300)).
    let pdf = landscape.pdf();
    for b in [1usize, 7, 150, 300, 2000] {
        let mass: f64 = pdf[..=b.min(300)].iter().sum();
        assert!((table.value(1, b) - 0.004 * mass).abs() < 1e-15);
    }
    // Small n reach V_max within the budget, so their rows stop early.
    assert!(table.stored() < 60 * 3001);
}

#[test]
fn bids_are_affordable_and_grow_with_the_click_rate() {
    let landscape = BidLandscape::from_counts(&counts(), 1.0).unwrap();
    let dp = BiddingDp::clicks(100, 800, 0.004);
    let table = dp.solve(&landscape).unwrap();
    for n in [1usize, 2, 50, 100] {
        for b in [0usize, 1, 5, 80, 400, 800] {
            let mut last = 0;
            for theta in [0.0, 0.001, 0.004, 0.02, 0.2, 1.0] {
                let bid = table.bid(&dp, n, b, theta, 300);
                assert!(bid <= b && bid <= 300, "n={n} b={b} θ={theta}: {bid}");
                assert!(bid >= last, "bids fall with θ at n={n}, b={b}");
                last = bid;
            }
        }
    }
    // The last auction: any affordable price is worth a click of positive probability.
    assert_eq!(table.bid(&dp, 1, 250, 0.01, 300), 250);
    assert_eq!(lin_bid(10.0, 0.008, 0.004, 300), 20);
    assert_eq!(lin_bid(10.0, 1.0, 0.004, 300), 300);
    assert_eq!(mcpc_bid(0.01, 4500.0, 300), 45);
}

#[test]
fn bad_input_is_rejected() {
    assert!(BidLandscape::from_counts(&[], 1.0).is_err());
    assert!(BidLandscape::from_counts(&[0, 0], 0.0).is_err());
    assert!(BidLandscape::from_counts(&[1, 2], -1.0).is_err());
    let landscape = BidLandscape::from_counts(&[1, 1, 1], 1.0).unwrap();
    for dp in [
        BiddingDp::clicks(0, 10, 0.1),
        BiddingDp::clicks(10, 10, 1.5),
        BiddingDp::clicks(10, 10, f64::NAN),
        BiddingDp {
            gamma: 2.0,
            ..BiddingDp::clicks(10, 10, 0.1)
        },
        BiddingDp {
            cost_weight: -1.0,
            ..BiddingDp::clicks(10, 10, 0.1)
        },
    ] {
        let error = dp.solve(&landscape).unwrap_err().to_string();
        assert!(error.contains("invalid parameter"), "{error}");
    }
}
