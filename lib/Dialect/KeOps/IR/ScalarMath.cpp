//===- ScalarMath.cpp - float64 semantics of KeOps functions ----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the float64 KeOps functions of ScalarMath.h.
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/IR/ScalarMath.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace mlir::keops::scalar {

double rsqrt(double x) { return x == 0.0 ? 0.0 : 1.0 / std::sqrt(x); }

double sign(double x) { return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0); }

double step(double x) { return x < 0.0 ? 0.0 : 1.0; }

double relu(double x) { return x < 0.0 ? 0.0 : x; }

double powi(double x, int64_t n) {
  double result = 1.0;
  double base = n < 0 ? 1.0 / x : x;
  for (uint64_t e = n < 0 ? -static_cast<uint64_t>(n) : n; e; e >>= 1) {
    if (e & 1)
      result *= base;
    base *= base;
  }
  return result;
}

double xlogx(double x) { return x == 0.0 ? 0.0 : x * std::log(x); }

double sinxdivx(double x) { return x == 0.0 ? 1.0 : std::sin(x) / x; }

double roundTo(double x, int64_t decimals) {
  double scale = std::pow(10.0, static_cast<double>(decimals));
  return std::round(x * scale) / scale;
}

double sum(llvm::ArrayRef<double> x) {
  double total = 0.0;
  for (double v : x)
    total += v;
  return total;
}

double dot(llvm::ArrayRef<double> x, llvm::ArrayRef<double> y) {
  double total = 0.0;
  for (size_t k = 0; k < x.size(); ++k)
    total += x[k] * y[k];
  return total;
}

double sqDist(llvm::ArrayRef<double> x, llvm::ArrayRef<double> y) {
  double total = 0.0;
  for (size_t k = 0, e = std::max(x.size(), y.size()); k < e; ++k) {
    double diff = x[x.size() == 1 ? 0 : k] - y[y.size() == 1 ? 0 : k];
    total += diff * diff;
  }
  return total;
}

double minimum(double a, double b) {
  return std::isnan(a) || std::isnan(b) ? std::numeric_limits<double>::quiet_NaN()
                                        : std::min(a, b);
}

double maximum(double a, double b) {
  return std::isnan(a) || std::isnan(b) ? std::numeric_limits<double>::quiet_NaN()
                                        : std::max(a, b);
}

// As the kernels' fold of the components with arith.minimumf / maximumf.
double minOf(llvm::ArrayRef<double> x) {
  return std::accumulate(x.begin() + 1, x.end(), x.front(), minimum);
}

double maxOf(llvm::ArrayRef<double> x) {
  return std::accumulate(x.begin() + 1, x.end(), x.front(), maximum);
}

double argMinOf(llvm::ArrayRef<double> x) {
  return static_cast<double>(std::min_element(x.begin(), x.end()) - x.begin());
}

double argMaxOf(llvm::ArrayRef<double> x) {
  return static_cast<double>(std::max_element(x.begin(), x.end()) - x.begin());
}

void normalize(llvm::ArrayRef<double> x, llvm::SmallVectorImpl<double> &out) {
  double scale = rsqrt(dot(x, x));
  for (double v : x)
    out.push_back(v * scale);
}

void broadcast(llvm::ArrayRef<llvm::SmallVector<double>> operands,
               llvm::SmallVectorImpl<double> &out,
               llvm::function_ref<double(llvm::ArrayRef<double>)> f) {
  size_t dim = 1;
  for (const auto &operand : operands)
    dim = std::max(dim, operand.size());
  llvm::SmallVector<double, 4> components(operands.size());
  for (size_t k = 0; k < dim; ++k) {
    for (size_t n = 0; n < operands.size(); ++n)
      components[n] = operands[n].size() == 1 ? operands[n][0] : operands[n][k];
    out.push_back(f(components));
  }
}

} // namespace mlir::keops::scalar
