//! An edge gateway's store-and-forward buffer, run-length encoded.
//!
//! A gateway produces the same number of messages every second, so an outage fills its buffer
//! with one long run of equal seconds. Keeping runs rather than one entry per second makes a
//! gateway's memory independent of how long the outage lasts (one entry per second took 14 KB
//! per gateway after ten minutes: 140 MB for 10,000 gateways).

use std::collections::VecDeque;

/// `secs` consecutive seconds from `first_s`, each holding `per_s` messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    first_s: u64,
    secs: u64,
    per_s: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Buffer {
    runs: VecDeque<Run>,
    /// Messages already forwarded from the oldest second of the front run.
    front_taken: u64,
    len: u64,
}

impl Buffer {
    /// Messages waiting.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// The second the oldest waiting message was produced in.
    pub fn oldest(&self) -> Option<u64> {
        self.runs.front().map(|r| r.first_s)
    }

    /// Appends `n` messages produced in second `t` (seconds only increase).
    pub fn push(&mut self, t: u64, n: u64) {
        if n == 0 {
            return;
        }
        match self.runs.back_mut() {
            Some(back) if back.per_s == n && back.first_s + back.secs == t => back.secs += 1,
            _ => self.runs.push_back(Run {
                first_s: t,
                secs: 1,
                per_s: n,
            }),
        }
        self.len += n;
    }

    /// Forwards up to `budget` messages, oldest first; returns how many went.
    pub fn drain(&mut self, mut budget: u64) -> u64 {
        let mut sent = 0;
        while budget > 0 {
            let Some(front) = self.runs.front_mut() else {
                break;
            };
            let left_in_second = front.per_s - self.front_taken;
            if budget < left_in_second {
                self.front_taken += budget;
                sent += budget;
                break;
            }
            // The oldest second empties.
            budget -= left_in_second;
            sent += left_in_second;
            self.front_taken = 0;
            // Whole seconds that fit in what is left of the budget go at once.
            let whole = (budget / front.per_s).min(front.secs - 1);
            budget -= whole * front.per_s;
            sent += whole * front.per_s;
            front.first_s += 1 + whole;
            front.secs -= 1 + whole;
            if front.secs == 0 {
                self.runs.pop_front();
            }
        }
        self.len -= sent;
        sent
    }

    /// How many runs are held (what the memory grows with).
    #[cfg(test)]
    pub fn runs(&self) -> usize {
        self.runs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain one-entry-per-second queue this replaces, as the reference.
    #[derive(Default)]
    struct Plain(VecDeque<(u64, u64)>);

    impl Plain {
        fn drain(&mut self, mut budget: u64) -> u64 {
            let mut sent = 0;
            while budget > 0 {
                let Some(f) = self.0.front_mut() else { break };
                let n = f.1.min(budget);
                f.1 -= n;
                budget -= n;
                sent += n;
                if f.1 == 0 {
                    self.0.pop_front();
                }
            }
            sent
        }
    }

    #[test]
    fn an_outage_is_one_run_whatever_its_length() {
        let mut b = Buffer::default();
        for t in 0..3_600 {
            b.push(t, 40);
        }
        assert_eq!((b.len(), b.runs(), b.oldest()), (144_000, 1, Some(0)));
    }

    #[test]
    fn behaves_exactly_like_a_queue_of_seconds() {
        // Pseudo-random production and drain patterns, checked step by step against the plain queue.
        let mut x: u64 = 12345;
        let mut rand = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        let (mut b, mut p) = (Buffer::default(), Plain::default());
        for t in 0..5_000 {
            let n = if rand(4) == 0 { rand(50) } else { 30 };
            b.push(t, n);
            if n > 0 {
                p.0.push_back((t, n));
            }
            let budget = if rand(3) == 0 { 0 } else { rand(200) };
            assert_eq!(b.drain(budget), p.drain(budget), "t = {t}");
            assert_eq!(b.len(), p.0.iter().map(|e| e.1).sum::<u64>(), "t = {t}");
            assert_eq!(b.oldest(), p.0.front().map(|e| e.0), "t = {t}");
        }
    }

    #[test]
    fn draining_an_empty_buffer_sends_nothing() {
        let mut b = Buffer::default();
        assert_eq!(b.drain(100), 0);
        b.push(5, 10);
        assert_eq!(b.drain(4), 4);
        assert_eq!((b.len(), b.oldest()), (6, Some(5)));
        assert_eq!(b.drain(100), 6);
        assert_eq!((b.len(), b.oldest(), b.runs()), (0, None, 0));
    }
}
