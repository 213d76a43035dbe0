#pragma once
// Fits the calibrated cost model (hardware_profiles/cost_model.hpp, docs/validation.md) to CUDA
// measurements with Eigen least squares, on the shapes whose model-axis size k is in `fit_axes`.
#include <vector>

#include "hardware_profiles/cost_model.hpp"
#include "sim/validate/measurements.hpp"

namespace meshsim {

struct ChipSpec;

// The model-axis sizes the fit sees (issue 8); k = 2 and 8 are held out to judge it.
inline const std::vector<int> kDefaultFitModelAxes{1, 4, 16};

// Fits every op kind present in the fit shapes (weighted so that the relative error is minimised,
// coefficients >= 0), then the graph factor on the same shapes' layers. Throws InputError when no
// shape of the file has k in `fit_axes`.
CalibratedCost fit_cost_model(const MeasurementSet& measurements, const ChipSpec& chip,
                              const std::vector<int>& fit_axes = kDefaultFitModelAxes);

// min ||A x - b||_2 subject to x >= 0, for a few columns: every support set is solved by
// column-pivoted Householder QR (robust to collinear columns) and the best feasible one is kept,
// which is the exact NNLS optimum. `rows` are the rows of A.
std::vector<double> nonnegative_least_squares(const std::vector<std::vector<double>>& rows,
                                              const std::vector<double>& target);

}  // namespace meshsim
