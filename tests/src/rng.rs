//! A small seeded generator (SplitMix64): the campaign's every random choice comes from one
//! printed seed, so a failing plan can be replayed.

/// SplitMix64 (Steele, Lea and Flood, 2014): fast, and every seed gives a good stream.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        // Multiply-shift: unbiased enough for test plans, and never a division by zero.
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }

    /// An index into a slice of `len` elements (`len` > 0).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// `true` with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A duration in `0..=max`, to the microsecond.
    pub fn upto(&mut self, max: std::time::Duration) -> std::time::Duration {
        let us = u64::try_from(max.as_micros()).unwrap_or(u64::MAX);
        std::time::Duration::from_micros(self.below(us.saturating_add(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_gives_one_stream_and_draws_stay_in_range() {
        let a: Vec<u64> = {
            let mut r = Rng::new(42);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let mut r = Rng::new(42);
        assert_eq!(a, (0..8).map(|_| r.next_u64()).collect::<Vec<_>>());
        assert_ne!(Rng::new(43).next_u64(), a[0]);
        let mut seen = [false; 5];
        for _ in 0..1000 {
            seen[r.index(5)] = true;
            assert!(r.upto(std::time::Duration::from_millis(3)).as_micros() <= 3000);
        }
        assert!(seen.iter().all(|s| *s), "every index comes up");
    }
}
