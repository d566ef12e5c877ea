//! Real-time bidding worlds: an iPinYou campaign's training statistics, its auction log
//! (one `click market_price pCTR` line per auction), the replay of a log against a bidder under
//! a per-episode budget, and seeded simulated logs for campaigns whose test logs do not ship.
//!
//! Replay follows Cai et al.'s reference: the log is cut into consecutive episodes of N
//! auctions with the budget reset to B at each (a last partial episode is played from a fresh
//! start); a bid wins when it is at least the market price, and the winner pays the market price
//! (second price); clicks count only on won auctions.

use std::path::Path;

use choicelab_core::{stream_rng, Error, Location, Result, Seed};
use rand::RngExt;
use rand_distr::{Beta, Distribution};
use serde::Deserialize;

/// A campaign's training and test statistics (`<campaign>.info.json`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CampaignInfo {
    /// Training impressions.
    pub imp_train: u64,
    /// Training clicks.
    pub clk_train: u64,
    /// Training cost (sum of market prices, in price units).
    pub cost_train: u64,
    /// Test impressions.
    pub imp_test: u64,
    /// Test clicks.
    pub clk_test: u64,
    /// Test cost.
    pub cost_test: u64,
    /// Histogram of training market prices 0..=300.
    pub price_counter_train: Vec<u64>,
}

impl CampaignInfo {
    /// Reads `<campaign>.info.json`; errors name the file and the field.
    pub fn from_json_path(path: &Path) -> Result<Self> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let info: CampaignInfo = serde_json::from_str(&text)
            .map_err(|e| Error::parse(Location::new(&name).line(e.line() as u64), e.to_string()))?;
        let at = |field: &str| Location::new(&name).field(field);
        if info.imp_train == 0 || info.clk_train == 0 || info.clk_train > info.imp_train {
            return Err(Error::invalid(
                at("clk_train"),
                format!(
                    "need 0 < clicks ≤ impressions, got {} clicks in {} impressions",
                    info.clk_train, info.imp_train
                ),
            ));
        }
        if info.price_counter_train.is_empty() || info.price_counter_train.iter().all(|&c| c == 0) {
            return Err(Error::invalid(
                at("price_counter_train"),
                "the price histogram is empty",
            ));
        }
        Ok(info)
    }

    /// Average click rate θ̄ = clicks / impressions on the training data.
    pub fn theta_avg(&self) -> f64 {
        self.clk_train as f64 / self.imp_train as f64
    }

    /// Cost per mille of the training data, CPM = cost / impressions (prices are per mille).
    pub fn cpm(&self) -> f64 {
        self.cost_train as f64 / self.imp_train as f64
    }

    /// Cost per click of the training data.
    pub fn cpc(&self) -> f64 {
        self.cost_train as f64 / self.clk_train as f64
    }

    /// The episode budget B = ⌊CPM · c₀ · N⌋.
    pub fn budget(&self, c0: f64, auctions: usize) -> usize {
        (self.cpm() * c0 * auctions as f64) as usize
    }
}

/// One auction of a log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Auction {
    /// Whether the impression was clicked (counts only if won).
    pub click: bool,
    /// The market price: the highest competing bid.
    pub price: u32,
    /// The predicted click rate θ(x) of the impression.
    pub ctr: f64,
}

/// An auction log in order.
#[derive(Debug, Clone, PartialEq)]
pub struct AuctionLog {
    /// The auctions.
    pub auctions: Vec<Auction>,
}

impl AuctionLog {
    /// Reads `click market_price pCTR` lines (space separated); errors name the file, line and
    /// field (a click other than 0/1, a negative or non-integer price, a CTR outside [0, 1]).
    pub fn from_path(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses a log's text; `name` names the source in errors.
    pub fn parse(text: &str, name: &str) -> Result<Self> {
        let mut auctions = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let number = i as u64 + 1;
            if line.trim().is_empty() {
                continue;
            }
            let at = |field: &str| Location::new(name).line(number).field(field);
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() != 3 {
                return Err(Error::parse(
                    Location::new(name).line(number),
                    format!(
                        "expected `click market_price pCTR`, got {} fields",
                        fields.len()
                    ),
                ));
            }
            let click = match fields[0] {
                "0" => false,
                "1" => true,
                other => {
                    return Err(Error::invalid(
                        at("click"),
                        format!("`{other}` is not 0 or 1"),
                    ))
                }
            };
            let price: i64 = fields[1].parse().map_err(|_| {
                Error::parse(
                    at("market_price"),
                    format!("`{}` is not an integer", fields[1]),
                )
            })?;
            let price = u32::try_from(price).map_err(|_| {
                Error::invalid(
                    at("market_price"),
                    format!("price {price} is negative or too large"),
                )
            })?;
            let ctr: f64 = fields[2].parse().map_err(|_| {
                Error::parse(at("pCTR"), format!("`{}` is not a number", fields[2]))
            })?;
            if !(0.0..=1.0).contains(&ctr) {
                return Err(Error::invalid(
                    at("pCTR"),
                    format!("predicted click rate {ctr} is not in [0, 1]"),
                ));
            }
            auctions.push(Auction { click, price, ctr });
        }
        if auctions.is_empty() {
            return Err(Error::parse(Location::new(name), "no auctions in the log"));
        }
        Ok(Self { auctions })
    }

    /// A seeded log of `count` auctions simulated from a campaign's training statistics: the
    /// market price drawn from the training histogram, the predicted click rate from
    /// Beta(κθ̄, κ(1 − θ̄)) with concentration κ (mean θ̄), and the click from Bernoulli(pCTR).
    /// Price and click rate are independent here, unlike in real logs.
    pub fn simulate(
        info: &CampaignInfo,
        count: usize,
        concentration: f64,
        seed: Seed,
    ) -> Result<Self> {
        if !(concentration > 0.0 && concentration.is_finite()) {
            return Err(Error::parameter(
                "concentration",
                format!("{concentration} must be positive and finite"),
            ));
        }
        let theta = info.theta_avg();
        let beta = Beta::new(concentration * theta, concentration * (1.0 - theta))
            .map_err(|e| Error::parameter("concentration", e.to_string()))?;
        let total: u64 = info.price_counter_train.iter().sum();
        let mut cumulative = Vec::with_capacity(info.price_counter_train.len());
        let mut running = 0u64;
        for &c in &info.price_counter_train {
            running += c;
            cumulative.push(running);
        }
        let mut rng = stream_rng(seed, 0);
        let auctions = (0..count)
            .map(|_| {
                let u = rng.random_range(0..total);
                let price = cumulative.partition_point(|&c| c <= u) as u32;
                let ctr: f64 = beta.sample(&mut rng);
                let click = rng.random::<f64>() < ctr;
                Auction { click, price, ctr }
            })
            .collect();
        Ok(Self { auctions })
    }
}

/// What a replay counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplayResult {
    /// Auctions played.
    pub auctions: u64,
    /// Auctions won.
    pub impressions: u64,
    /// Clicks on won auctions.
    pub clicks: u64,
    /// Total price paid.
    pub cost: u64,
}

impl ReplayResult {
    /// Won share of the auctions.
    pub fn win_rate(&self) -> f64 {
        self.impressions as f64 / self.auctions.max(1) as f64
    }

    /// Cost per mille of the won impressions (prices are per mille): cost / impressions.
    pub fn cpm(&self) -> f64 {
        self.cost as f64 / self.impressions.max(1) as f64
    }

    /// Effective cost per click, cost / (1000 · clicks), as the reference table reports it.
    pub fn ecpc(&self) -> f64 {
        self.cost as f64 / 1000.0 / self.clicks as f64
    }
}

/// Replays `log` in episodes of `episode` auctions with budget `budget` each; `bid(n, b, ctr)`
/// gets the auctions left n (counting down from N), the budget left b and the impression's
/// predicted click rate, and is capped at b.
pub fn replay(
    log: &AuctionLog,
    episode: usize,
    budget: usize,
    mut bid: impl FnMut(usize, usize, f64) -> usize,
) -> Result<ReplayResult> {
    if episode == 0 {
        return Err(Error::parameter(
            "episode",
            "need at least one auction per episode",
        ));
    }
    let mut result = ReplayResult::default();
    let (mut n, mut b) = (episode, budget);
    for auction in &log.auctions {
        let offer = bid(n, b, auction.ctr).min(b);
        if offer >= auction.price as usize {
            result.impressions += 1;
            result.clicks += u64::from(auction.click);
            b -= auction.price as usize;
            result.cost += u64::from(auction.price);
        }
        result.auctions += 1;
        n -= 1;
        if n == 0 {
            n = episode;
            b = budget;
        }
    }
    Ok(result)
}
