//! The order in which a batch's rows are published, as a pure schedule:
//! rows are grouped by ordering key (subject) in commit order; each round
//! sends the next sendable row of every subject; a subject whose row must be
//! retried stops there, and its later rows are released for a later batch,
//! so the events of one subject never go out of order. Rows without a key
//! are subjects of their own. A batch of distinct subjects takes one round.

use std::collections::HashMap;

/// What is known of a row when a round is formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowState {
    /// Ready to publish.
    Send,
    /// Parked already (it cannot be published at all): holds nothing back.
    Parked,
    /// Failed and will be retried: its subject's later rows must wait.
    Retry,
}

/// The schedule of one batch.
#[derive(Debug)]
pub(crate) struct Rounds {
    /// Row indices per subject, in commit order.
    groups: Vec<Vec<usize>>,
    /// The group of each row.
    group_of: Vec<usize>,
    /// Next position in each group.
    cursor: Vec<usize>,
    /// Subjects that stopped in this batch.
    halted: Vec<bool>,
}

impl Rounds {
    /// The schedule of rows with these ordering keys (in commit order).
    pub(crate) fn new<'a>(keys: impl IntoIterator<Item = Option<&'a str>>) -> Rounds {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut group_of = Vec::new();
        let mut by_key: HashMap<&str, usize> = HashMap::new();
        for (i, key) in keys.into_iter().enumerate() {
            let g = match key {
                Some(key) => *by_key.entry(key).or_insert_with(|| {
                    groups.push(Vec::new());
                    groups.len() - 1
                }),
                None => {
                    groups.push(Vec::new());
                    groups.len() - 1
                }
            };
            groups[g].push(i);
            group_of.push(g);
        }
        let n = groups.len();
        Rounds {
            groups,
            group_of,
            cursor: vec![0; n],
            halted: vec![false; n],
        }
    }

    /// The next round: the next sendable row of every subject still going.
    /// Empty when the batch is done.
    pub(crate) fn next(&mut self, state: impl Fn(usize) -> RowState) -> Vec<usize> {
        let mut round = Vec::new();
        for (g, items) in self.groups.iter().enumerate() {
            while !self.halted[g] && self.cursor[g] < items.len() {
                let i = items[self.cursor[g]];
                self.cursor[g] += 1;
                match state(i) {
                    RowState::Send => {
                        round.push(i);
                        break;
                    }
                    RowState::Parked => continue,
                    RowState::Retry => self.halted[g] = true,
                }
            }
        }
        round
    }

    /// Row `i` failed in its round and will be retried: its subject stops.
    pub(crate) fn halt(&mut self, i: usize) {
        if let Some(&g) = self.group_of.get(i) {
            self.halted[g] = true;
        }
    }

    /// The rows never sent because their subject stopped: given back
    /// untouched, for a later batch.
    pub(crate) fn released(&self) -> Vec<usize> {
        self.groups
            .iter()
            .enumerate()
            .filter(|(g, _)| self.halted[*g])
            .flat_map(|(g, items)| items[self.cursor[g]..].iter().copied())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a whole schedule: `states` before publishing, `fails` in a round.
    fn run(keys: &[Option<&str>], states: &[RowState], fails: &[usize]) -> (Vec<Vec<usize>>, Vec<usize>) {
        let mut rounds = Rounds::new(keys.iter().copied());
        let mut sent = Vec::new();
        loop {
            let round = rounds.next(|i| states[i]);
            if round.is_empty() {
                break;
            }
            for &i in &round {
                if fails.contains(&i) {
                    rounds.halt(i);
                }
            }
            sent.push(round);
        }
        (sent, rounds.released())
    }

    const S: RowState = RowState::Send;

    #[test]
    fn distinct_subjects_take_one_round() {
        let (sent, released) = run(&[Some("a"), Some("b"), None, None], &[S, S, S, S], &[]);
        assert_eq!(sent, vec![vec![0, 1, 2, 3]]);
        assert!(released.is_empty());
    }

    #[test]
    fn one_subject_goes_one_row_per_round_in_commit_order() {
        let (sent, _) = run(&[Some("a"), Some("b"), Some("a"), Some("a")], &[S, S, S, S], &[]);
        assert_eq!(sent, vec![vec![0, 1], vec![2], vec![3]]);
    }

    #[test]
    fn a_parked_row_holds_nothing_back() {
        let states = [S, RowState::Parked, S];
        let (sent, released) = run(&[Some("a"), Some("a"), Some("a")], &states, &[]);
        assert_eq!(sent, vec![vec![0], vec![2]]);
        assert!(released.is_empty());
    }

    #[test]
    fn a_row_to_retry_releases_its_successors_only() {
        let states = [RowState::Retry, S, S, S];
        let (sent, released) = run(&[Some("a"), Some("a"), Some("b"), Some("b")], &states, &[]);
        assert_eq!(sent, vec![vec![2], vec![3]]);
        assert_eq!(released, vec![1]);
    }

    #[test]
    fn a_failed_publish_stops_its_subject_and_releases_the_rest() {
        let keys = [Some("a"), Some("a"), Some("a"), Some("b"), Some("b")];
        let (sent, released) = run(&keys, &[S; 5], &[0]);
        assert_eq!(sent, vec![vec![0, 3], vec![4]]);
        assert_eq!(released, vec![1, 2]);
    }
}
