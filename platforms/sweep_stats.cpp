#include "sweep_stats.h"

#include <cmath>

namespace aimc::app {

double t_quantile_975(size_t df) {
  static constexpr double kTable[30] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                        2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                        2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (df == 0) return NAN;
  if (df <= 30) return kTable[df - 1];
  // (df, t) beyond the table, interpolated in 1/df; 1/df = 0 is the normal quantile.
  static constexpr double kDf[4] = {30, 40, 60, 120};
  static constexpr double kT[4] = {2.042, 2.021, 2.000, 1.980};
  const double x = 1.0 / static_cast<double>(df);
  for (int i = 1; i < 4; ++i) {
    if (static_cast<double>(df) <= kDf[i]) {
      const double x0 = 1.0 / kDf[i - 1], x1 = 1.0 / kDf[i];
      return kT[i - 1] + (kT[i] - kT[i - 1]) * (x - x0) / (x1 - x0);
    }
  }
  const double x0 = 1.0 / 120.0;
  return 1.959964 + (1.980 - 1.959964) * x / x0;
}

SeedStats seed_stats(const std::vector<double>& v) {
  SeedStats s;
  s.n = v.size();
  if (v.empty()) return s;
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  if (v.size() < 2) return s;
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(ss / static_cast<double>(v.size() - 1));
  const double half = t_quantile_975(v.size() - 1) * s.std / std::sqrt(static_cast<double>(v.size()));
  s.spread = true;
  s.ci95_low = s.mean - half;
  s.ci95_high = s.mean + half;
  return s;
}

}  // namespace aimc::app
