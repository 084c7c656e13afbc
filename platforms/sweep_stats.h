// Statistics over a design point's seeds (docs/sweeps.md, "Statistics over seeds").
#pragma once

#include <cstddef>
#include <vector>

namespace aimc::app {

struct SeedStats {
  size_t n = 0;
  double mean = 0;
  // With n >= 2: the sample standard deviation (n - 1 in the denominator) and the two-sided 95 %
  // confidence interval of the mean, mean -+ t(0.975, n - 1) * std / sqrt(n) (Student's t: the
  // seeds are few, and the figure's spread over seeds is what is estimated).
  bool spread = false;
  double std = 0, ci95_low = 0, ci95_high = 0;
};

// The statistics of `values` (the ok runs of one point); n = 0 gives mean 0 and no spread.
SeedStats seed_stats(const std::vector<double>& values);

// The 97.5 % quantile of Student's t distribution with `df` >= 1 degrees of freedom: the tabulated
// values for 1..30 and 40, 60, 120 (NIST/SEMATECH e-Handbook of Statistical Methods, 1.3.6.7.2),
// interpolated linearly in 1/df between them and towards 1.95996 (the normal's) beyond.
double t_quantile_975(size_t df);

}  // namespace aimc::app
