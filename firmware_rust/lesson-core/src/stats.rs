//! Summary of repeated timings (`jitter`).

/// Minimum, maximum and mean of a series of durations in µs, without storing the series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimingStats {
    pub count: u32,
    pub min_us: u32,
    pub max_us: u32,
    pub total_us: u64,
}

impl Default for TimingStats {
    fn default() -> Self {
        Self::new()
    }
}

impl TimingStats {
    pub const fn new() -> Self {
        Self { count: 0, min_us: u32::MAX, max_us: 0, total_us: 0 }
    }

    pub fn add(&mut self, elapsed_us: u32) {
        self.count += 1;
        self.min_us = self.min_us.min(elapsed_us);
        self.max_us = self.max_us.max(elapsed_us);
        self.total_us += elapsed_us as u64;
    }

    /// Mean rounded to the nearest µs (0 when empty).
    pub fn mean_us(&self) -> u32 {
        if self.count == 0 {
            return 0;
        }
        ((self.total_us + self.count as u64 / 2) / self.count as u64) as u32
    }

    /// Minimum, or 0 when empty.
    pub fn min_or_zero_us(&self) -> u32 {
        if self.count == 0 {
            0
        } else {
            self.min_us
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_track_min_max_and_rounded_mean() {
        let mut stats = TimingStats::new();
        for us in [10, 12, 11, 30] {
            stats.add(us);
        }
        assert_eq!((stats.count, stats.min_us, stats.max_us, stats.total_us), (4, 10, 30, 63));
        assert_eq!(stats.mean_us(), 16); // 15.75 rounds to 16
    }

    #[test]
    fn empty_stats_report_zeros() {
        let stats = TimingStats::new();
        assert_eq!((stats.mean_us(), stats.min_or_zero_us(), stats.max_us), (0, 0, 0));
    }
}
