//! Strong connectivity of the "who beat whom" graph, which the maximum-likelihood estimate needs.

use choicelab_core::{Error, Items, Result};

/// A directed graph on items: an edge i → j means j was preferred to i at least once.
pub(crate) struct WinGraph {
    out: Vec<Vec<u32>>,
}

impl WinGraph {
    pub fn new(n: usize) -> Self {
        Self {
            out: vec![Vec::new(); n],
        }
    }

    /// Records that `winner` was preferred to `loser`.
    pub fn add_win(&mut self, winner: u32, loser: u32) {
        self.out[loser as usize].push(winner);
    }

    /// The strongly connected components (Kosaraju, iterative), each sorted.
    pub fn components(&self) -> Vec<Vec<u32>> {
        let n = self.out.len();
        let mut order = Vec::with_capacity(n);
        let mut seen = vec![false; n];
        for start in 0..n {
            if seen[start] {
                continue;
            }
            seen[start] = true;
            let mut stack = vec![(start, 0usize)];
            while let Some((node, next)) = stack.last_mut() {
                if let Some(&succ) = self.out[*node].get(*next) {
                    *next += 1;
                    if !seen[succ as usize] {
                        seen[succ as usize] = true;
                        stack.push((succ as usize, 0));
                    }
                } else {
                    order.push(*node);
                    stack.pop();
                }
            }
        }
        let mut reverse = vec![Vec::new(); n];
        for (from, succs) in self.out.iter().enumerate() {
            for &to in succs {
                reverse[to as usize].push(from as u32);
            }
        }
        let mut component = vec![usize::MAX; n];
        let mut components = Vec::new();
        for &root in order.iter().rev() {
            if component[root] != usize::MAX {
                continue;
            }
            let id = components.len();
            let mut members = vec![root as u32];
            component[root] = id;
            let mut stack = vec![root];
            while let Some(node) = stack.pop() {
                for &pred in &reverse[node] {
                    if component[pred as usize] == usize::MAX {
                        component[pred as usize] = id;
                        members.push(pred);
                        stack.push(pred as usize);
                    }
                }
            }
            members.sort_unstable();
            components.push(members);
        }
        components
    }

    /// An error naming the components unless the graph is strongly connected.
    pub fn require_strongly_connected(&self, items: &Items) -> Result<()> {
        let components = self.components();
        if components.len() <= 1 {
            return Ok(());
        }
        let shown: Vec<String> = components
            .iter()
            .take(5)
            .map(|c| {
                let names: Vec<&str> = c.iter().take(6).map(|&i| items.name(i)).collect();
                let more = if c.len() > 6 {
                    format!(", … {} items", c.len())
                } else {
                    String::new()
                };
                format!("{{{}{more}}}", names.join(", "))
            })
            .collect();
        Err(Error::Numerical {
            context: "maximum-likelihood fit".into(),
            message: format!(
                "the comparison graph is not strongly connected ({} components: {}{}); \
                 the estimate does not exist without a penalty (alpha > 0)",
                components.len(),
                shown.join(" "),
                if components.len() > 5 { " …" } else { "" }
            ),
        })
    }
}
