#include "sim/validate/stack_fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace meshsim {
namespace {

constexpr int P = kStackParameters;
using Vec = std::vector<double>;

double scaled(int j, double value) {
  const StackParameter& p = stack_parameters()[static_cast<std::size_t>(j)];
  return (value - p.low) / (p.high - p.low);
}
double unscaled(int j, double u) {
  const StackParameter& p = stack_parameters()[static_cast<std::size_t>(j)];
  return p.low + std::clamp(u, 0.0, 1.0) * (p.high - p.low);
}

// Residuals log(predicted / measured) of the rows in use, for a stack in scaled coordinates.
class Problem {
 public:
  Problem(const std::vector<PreparedRun>& rows, const HardwareProfile& base,
          std::optional<std::size_t> exclude)
      : base_(base) {
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (!exclude || *exclude != i)
        rows_.push_back(&rows[i]);
    }
  }
  std::size_t rows() const { return rows_.size(); }
  const PreparedRun& row(std::size_t i) const { return *rows_[i]; }
  int simulations() const { return simulations_; }

  HardwareProfile profile(const std::array<double, P>& u) const {
    HardwareProfile h = base_;
    for (int j = 0; j < P; ++j)
      set_stack_value(h.cost.stack, j, unscaled(j, u[static_cast<std::size_t>(j)]));
    return h;
  }
  RunComparison predict(std::size_t i, const HardwareProfile& h) {
    ++simulations_;
    return predict_prepared_run(*rows_[i], h);
  }
  Vec residuals(const std::array<double, P>& u) {
    const HardwareProfile h = profile(u);
    Vec r(rows_.size());
    for (std::size_t i = 0; i < rows_.size(); ++i) {
      const RunComparison c = predict(i, h);
      r[i] = std::log(c.predicted_images_per_s / c.measured_images_per_s);
    }
    return r;
  }

 private:
  const HardwareProfile& base_;
  std::vector<const PreparedRun*> rows_;
  int simulations_ = 0;
};

double sum_sq(const Vec& r) {
  double s = 0;
  for (double x : r)
    s += x * x;
  return s;
}

// Solves the k x k system A x = b (Gaussian elimination, partial pivoting); false if singular.
bool solve(std::vector<Vec> a, Vec b, Vec& x) {
  const std::size_t k = b.size();
  for (std::size_t c = 0; c < k; ++c) {
    std::size_t pivot = c;
    for (std::size_t r = c + 1; r < k; ++r) {
      if (std::abs(a[r][c]) > std::abs(a[pivot][c]))
        pivot = r;
    }
    if (std::abs(a[pivot][c]) < 1e-300)
      return false;
    std::swap(a[c], a[pivot]);
    std::swap(b[c], b[pivot]);
    for (std::size_t r = c + 1; r < k; ++r) {
      const double f = a[r][c] / a[c][c];
      for (std::size_t j = c; j < k; ++j)
        a[r][j] -= f * a[c][j];
      b[r] -= f * b[c];
    }
  }
  x.assign(k, 0);
  for (std::size_t c = k; c-- > 0;) {
    double s = b[c];
    for (std::size_t j = c + 1; j < k; ++j)
      s -= a[c][j] * x[j];
    x[c] = s / a[c][c];
  }
  return true;
}

// d residual_i / d u_j for j in `subset`, by forward (or, at the upper bound, backward)
// differences.
std::vector<Vec> jacobian(Problem& problem, const std::array<double, P>& u, const Vec& r,
                          const std::vector<int>& subset) {
  constexpr double h = 1e-3;
  std::vector<Vec> jac(r.size(), Vec(subset.size(), 0.0));
  for (std::size_t s = 0; s < subset.size(); ++s) {
    auto v = u;
    const auto j = static_cast<std::size_t>(subset[s]);
    const double step = v[j] + h <= 1.0 ? h : -h;
    v[j] += step;
    const Vec rv = problem.residuals(v);
    for (std::size_t i = 0; i < r.size(); ++i)
      jac[i][s] = (rv[i] - r[i]) / step;
  }
  return jac;
}

struct SubsetFit {
  std::vector<int> subset;
  std::array<double, P> u{};
  double ssr = std::numeric_limits<double>::infinity();
};

// Levenberg-Marquardt on the parameters of `subset`, kept inside their bounds.
SubsetFit levenberg_marquardt(Problem& problem, std::array<double, P> u,
                              const std::vector<int>& subset) {
  Vec r = problem.residuals(u);
  double ssr = sum_sq(r);
  double lambda = 1e-2;
  const std::size_t k = subset.size();
  for (int iteration = 0; iteration < 40 && ssr > 1e-14; ++iteration) {
    const auto jac = jacobian(problem, u, r, subset);
    std::vector<Vec> a(k, Vec(k, 0.0));
    Vec g(k, 0.0);
    for (std::size_t i = 0; i < r.size(); ++i) {
      for (std::size_t p = 0; p < k; ++p) {
        g[p] -= jac[i][p] * r[i];
        for (std::size_t q = 0; q < k; ++q)
          a[p][q] += jac[i][p] * jac[i][q];
      }
    }
    bool improved = false;
    while (lambda < 1e8) {
      auto damped = a;
      for (std::size_t p = 0; p < k; ++p)
        damped[p][p] += lambda * (a[p][p] + 1e-6);
      Vec delta;
      if (!solve(damped, g, delta)) {
        lambda *= 4;
        continue;
      }
      auto trial = u;
      double moved = 0;
      for (std::size_t p = 0; p < k; ++p) {
        const auto j = static_cast<std::size_t>(subset[p]);
        const double next = std::clamp(u[j] + delta[p], 0.0, 1.0);
        moved = std::max(moved, std::abs(next - u[j]));
        trial[j] = next;
      }
      if (moved < 1e-9)
        break;
      const Vec rt = problem.residuals(trial);
      const double st = sum_sq(rt);
      if (st < ssr) {
        u = trial;
        r = rt;
        improved = ssr - st > 1e-14;
        ssr = st;
        lambda = std::max(lambda / 3, 1e-9);
        break;
      }
      lambda *= 4;
    }
    if (!improved)
      break;
  }
  return SubsetFit{subset, u, ssr};
}

// Golden-section search of the sum of squares along coordinate j over its whole bounds: a
// parameter that only acts past a threshold (an input pipeline that binds) has no gradient where
// it does not act, so gradient steps that cross the threshold can stall there.
std::array<double, P> line_search(Problem& problem, std::array<double, P> u, int j, double& ssr) {
  const double phi = (std::sqrt(5.0) - 1) / 2;
  double a = 0, b = 1;
  auto at = [&](double x) {
    auto v = u;
    v[static_cast<std::size_t>(j)] = x;
    return sum_sq(problem.residuals(v));
  };
  double c = b - phi * (b - a), d = a + phi * (b - a);
  double fc = at(c), fd = at(d);
  for (int i = 0; i < 30; ++i) {
    if (fc <= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - phi * (b - a);
      fc = at(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + phi * (b - a);
      fd = at(d);
    }
  }
  const double x = fc <= fd ? c : d;
  const double fx = std::min(fc, fd);
  if (fx < ssr) {
    u[static_cast<std::size_t>(j)] = x;
    ssr = fx;
  }
  return u;
}

// The best fit of `subset` from `start`: gradient steps from the start; where a parameter is left
// without effect on any row (flat: it acts only past a threshold it has not reached, or it was
// pushed across one), gradient steps from the middle of the bounds and a line search along it.
SubsetFit fit_subset(Problem& problem, const std::array<double, P>& start,
                     const std::vector<int>& subset) {
  SubsetFit best = levenberg_marquardt(problem, start, subset);
  if (best.ssr < 1e-14)
    return best;
  const Vec r = problem.residuals(best.u);
  const auto jac = jacobian(problem, best.u, r, subset);
  std::vector<int> flat;
  for (std::size_t s = 0; s < subset.size(); ++s) {
    double largest = 0;
    for (const auto& row : jac)
      largest = std::max(largest, std::abs(row[s]));
    if (largest < 1e-6)
      flat.push_back(subset[s]);
  }
  if (flat.empty())
    return best;
  auto middle = start;
  for (int j : subset)
    middle[static_cast<std::size_t>(j)] = 0.5;
  const SubsetFit other = levenberg_marquardt(problem, middle, subset);
  if (other.ssr < best.ssr)
    best = other;
  double ssr = best.ssr;
  auto u = best.u;
  for (int j : flat)
    u = line_search(problem, u, j, ssr);
  if (ssr < best.ssr - 1e-14)
    best = levenberg_marquardt(problem, u, subset);
  return best;
}

// Every subset of {0..P-1} with `size` members, all allowed.
std::vector<std::vector<int>> subsets_of(int size, const std::array<bool, P>& allowed) {
  std::vector<std::vector<int>> out;
  for (int mask = 1; mask < (1 << P); ++mask) {
    std::vector<int> s;
    bool ok = true;
    for (int j = 0; j < P; ++j) {
      if (mask & (1 << j)) {
        s.push_back(j);
        ok = ok && allowed[static_cast<std::size_t>(j)];
      }
    }
    if (ok && static_cast<int>(s.size()) == size)
      out.push_back(s);
  }
  return out;
}

double distance(const std::array<double, P>& a, const std::array<double, P>& b) {
  double d = 0;
  for (std::size_t j = 0; j < P; ++j)
    d += std::abs(a[j] - b[j]);
  return d;
}

}  // namespace

StackFitResult fit_stack(const std::vector<PreparedRun>& rows, const HardwareProfile& base,
                         std::optional<std::size_t> exclude, const StackParameterMask& allowed,
                         bool alternatives) {
  Problem problem(rows, base, exclude);
  StackFitResult result;
  std::array<double, P> start{};
  for (int j = 0; j < P; ++j)
    start[static_cast<std::size_t>(j)] = scaled(j, stack_value(base.cost.stack, j));
  const int candidates = static_cast<int>(std::count(allowed.begin(), allowed.end(), true));
  const int k = std::min<int>(candidates, static_cast<int>(problem.rows()));

  // Best subset: smallest residual, then (within 1e-10) the smallest move from the start.
  SubsetFit best;
  for (const auto& subset : subsets_of(k, allowed)) {
    const SubsetFit f = fit_subset(problem, start, subset);
    const bool better =
        f.ssr < best.ssr - 1e-10 ||
        (f.ssr <= best.ssr + 1e-10 && distance(f.u, start) < distance(best.u, start));
    if (better)
      best = f;
  }
  // What each parameter alone would make of the rows: the alternatives the data cannot rule out.
  for (int j = 0; j < P; ++j) {
    if (!alternatives || !allowed[static_cast<std::size_t>(j)])
      continue;
    const SubsetFit f = fit_subset(problem, start, {j});
    auto& alone = result.alone[static_cast<std::size_t>(j)];
    alone.value = unscaled(j, f.u[static_cast<std::size_t>(j)]);
    alone.rms_log_error = std::sqrt(f.ssr / static_cast<double>(problem.rows()));
  }

  // Which rows each fitted parameter moves, and its standard error.
  const Vec r = problem.residuals(best.u);
  const auto jac = jacobian(problem, best.u, r, best.subset);
  const std::size_t n = r.size(), kk = best.subset.size();
  std::vector<bool> keep(kk, true);
  for (std::size_t s = 0; s < kk; ++s) {
    const auto j = static_cast<std::size_t>(best.subset[s]);
    StackParameterFit& p = result.parameters[j];
    double largest = 0;
    for (std::size_t i = 0; i < n; ++i)
      largest = std::max(largest, std::abs(jac[i][s]));
    for (std::size_t i = 0; i < n; ++i) {
      if (largest > 1e-6 && std::abs(jac[i][s]) >= 0.1 * largest)
        p.constrained_by.push_back(problem.row(i).run->id);
    }
    if (p.constrained_by.empty()) {
      // No row moves it: it cannot be fitted; keep the profile's value.
      best.u[j] = start[j];
      keep[s] = false;
      p.why_kept = "no row's prediction depends on it";
      continue;
    }
    p.fitted = true;
    p.at_bound = best.u[j] <= 1e-9 || best.u[j] >= 1 - 1e-9;
  }
  if (n > kk) {
    std::vector<Vec> a(kk, Vec(kk, 0.0));
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t p = 0; p < kk; ++p) {
        for (std::size_t q = 0; q < kk; ++q)
          a[p][q] += jac[i][p] * jac[i][q];
      }
    }
    const double s2 = sum_sq(r) / static_cast<double>(n - kk);
    for (std::size_t s = 0; s < kk; ++s) {
      if (!keep[s])
        continue;
      Vec e(kk, 0.0), column;
      e[s] = 1;
      if (solve(a, e, column) && column[s] >= 0) {
        const auto j = best.subset[s];
        const StackParameter& sp = stack_parameters()[static_cast<std::size_t>(j)];
        result.parameters[static_cast<std::size_t>(j)].std_error =
            std::sqrt(s2 * column[s]) * (sp.high - sp.low);
      }
    }
  }
  for (int j = 0; j < P; ++j) {
    StackParameterFit& p = result.parameters[static_cast<std::size_t>(j)];
    p.value = unscaled(j, best.u[static_cast<std::size_t>(j)]);
    if (!p.fitted && p.why_kept.empty()) {
      p.why_kept = allowed[static_cast<std::size_t>(j)]
                       ? "fewer rows than parameters: the fit chose others"
                       : "not among --fit";
    }
  }
  result.stack = problem.profile(best.u).cost.stack;

  HardwareProfile fitted = base;
  fitted.cost.stack = result.stack;
  for (std::size_t i = 0; i < problem.rows(); ++i) {
    result.before.push_back(problem.predict(i, base));
    result.after.push_back(problem.predict(i, fitted));
  }
  result.simulations = problem.simulations();
  return result;
}

std::vector<RunComparison> leave_one_out(const std::vector<PreparedRun>& rows,
                                         const HardwareProfile& base,
                                         const StackParameterMask& allowed) {
  std::vector<RunComparison> out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const StackFitResult fit = fit_stack(rows, base, i, allowed, false);
    HardwareProfile h = base;
    h.cost.stack = fit.stack;
    out.push_back(predict_prepared_run(rows[i], h));
  }
  return out;
}

}  // namespace meshsim
