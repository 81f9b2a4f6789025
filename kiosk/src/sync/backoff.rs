//! Retry delays: exponential backoff with "full jitter" (AWS Architecture Blog, "Exponential
//! Backoff And Jitter"): the n-th consecutive failure waits a uniformly random time between 0
//! and min(max, base * 2^(n-1)). Spreading retries over the whole window keeps a hall full of
//! kiosks that lost the network together from hammering the platform together when it
//! returns. A `Retry-After` from the platform is a floor on top of that.

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The window after the first failure.
    pub base: Duration,
    /// The largest window.
    pub max: Duration,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Backoff {
        Backoff {
            base,
            max: max.max(base),
        }
    }

    /// From the config's seconds (`sync.backoff_min_s`, `sync.backoff_max_s`).
    pub fn from_secs(min_s: u64, max_s: u64) -> Backoff {
        Backoff::new(Duration::from_secs(min_s), Duration::from_secs(max_s))
    }

    /// The upper end of the window after `failures` consecutive failures (1 = first).
    pub fn window(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(40);
        let factor = 1u64 << doublings;
        let base_ms = self.base.as_millis().min(u128::from(u64::MAX)) as u64;
        let ms = base_ms.saturating_mul(factor);
        Duration::from_millis(ms).min(self.max)
    }

    /// A random delay in `[0, window(failures)]`, never shorter than `retry_after`.
    pub fn delay<R: Rng + ?Sized>(
        &self,
        failures: u32,
        retry_after: Option<Duration>,
        rng: &mut R,
    ) -> Duration {
        let window_ms = self.window(failures).as_millis().min(u128::from(u64::MAX)) as u64;
        let jitter = Duration::from_millis(rng.gen_range(0..=window_ms));
        match retry_after {
            Some(floor) => jitter.max(floor),
            None => jitter,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn window_doubles_from_one_second_up_to_five_minutes() {
        let b = Backoff::from_secs(1, 300);
        let secs: Vec<u64> = (1..=12).map(|n| b.window(n).as_secs()).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(b.window(0).as_secs(), 1);
        assert_eq!(b.window(u32::MAX).as_secs(), 300, "no overflow");
    }

    #[test]
    fn delays_fill_the_whole_window_and_stay_inside_it() {
        let b = Backoff::from_secs(1, 300);
        let mut rng = StdRng::seed_from_u64(7);
        let delays: Vec<Duration> = (0..2000).map(|_| b.delay(4, None, &mut rng)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(8)));
        let below_2s = delays
            .iter()
            .filter(|d| **d < Duration::from_secs(2))
            .count();
        let above_6s = delays
            .iter()
            .filter(|d| **d > Duration::from_secs(6))
            .count();
        // Uniform over [0, 8 s]: a quarter below 2 s and a quarter above 6 s, give or take.
        assert!((380..620).contains(&below_2s), "{below_2s}");
        assert!((380..620).contains(&above_6s), "{above_6s}");
    }

    #[test]
    fn retry_after_is_a_floor() {
        let b = Backoff::from_secs(1, 300);
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..100 {
            assert!(b.delay(1, Some(Duration::from_secs(7)), &mut rng) >= Duration::from_secs(7));
        }
    }

    #[test]
    fn same_seed_same_delays() {
        let b = Backoff::from_secs(1, 300);
        let run = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (1..20)
                .map(|n| b.delay(n, None, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }
}
