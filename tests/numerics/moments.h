// Sample moments for the statistical tests of the numerics (fixed seeds, tolerances from the
// moments' own standard errors).
#pragma once

#include <vector>

namespace aimc::testing {

struct Moments {
  double mean = 0, var = 0, m4 = 0;  // var: unbiased; m4: fourth central moment
  double mean_sq = 0, mean_4 = 0;    // raw moments E x^2, E x^4
  long n = 0;
};

inline Moments moments(const std::vector<double>& x) {
  Moments m;
  m.n = static_cast<long>(x.size());
  for (double v : x) {
    m.mean += v;
    m.mean_sq += v * v;
    m.mean_4 += v * v * v * v;
  }
  m.mean /= m.n;
  m.mean_sq /= m.n;
  m.mean_4 /= m.n;
  for (double v : x) {
    const double d = v - m.mean;
    m.var += d * d;
    m.m4 += d * d * d * d;
  }
  m.var /= (m.n - 1);
  m.m4 /= m.n;
  return m;
}

}  // namespace aimc::testing
