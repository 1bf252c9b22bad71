//===- Reference.cpp - float64 reference of a compiled kernel ---*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements ReferenceEvaluator with textbook reductions in
// float64: a plain sum, the max-shifted log-sum-exp, strict comparisons
// keeping the first best index, and a stable sort for the K smallest.
//
//===----------------------------------------------------------------------===//

#include "keops/Compiler/Reference.h"

#include "keops/Compiler/Elements.h"

#include "keops/Dialect/KeOps/IR/FormulaEvaluator.h"
#include "keops/InitAllKeOps.h"
#include "keops/Runtime/KeOpsRuntime.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

using mlir::DialectRegistry;
using mlir::LogicalResult;
using mlir::MLIRContext;
using mlir::ModuleOp;
using mlir::OwningOpRef;
namespace mk = mlir::keops;

namespace {

class FormulaReference final : public keops::ReferenceEvaluator {
public:
  FormulaReference(const keops::Kernel &kernel,
                   const std::vector<keops_rt_array_t> &inputs, int64_t rowsI,
                   int64_t rowsJ)
      : kernel(kernel), inputs(inputs), context(makeRegistry()) {
    bool rowsAreI = kernel.getRowCategory() == KEOPS_RT_CATEGORY_I;
    numRows = rowsAreI ? rowsI : rowsJ;
    numColumns = rowsAreI ? rowsJ : rowsI;
  }

  LogicalResult parse() {
    module = mlir::parseSourceString<ModuleOp>(kernel.getImportedModule(), &context);
    if (!module)
      return mlir::failure();
    (*module)->walk([&](mk::ReduceOp op) { reduce = op; });
    return mlir::success(reduce != nullptr);
  }

  std::vector<std::vector<double>> evaluatePair(int64_t row,
                                                int64_t column) override {
    llvm::SmallVector<llvm::SmallVector<double>> variableRows;
    for (size_t k = 0; k < inputs.size(); ++k) {
      const keops::KernelInput &input = kernel.getInputs()[k];
      int64_t index = input.category == KEOPS_RT_CATEGORY_PARAM ? 0
                      : input.category == kernel.getRowCategory() ? row
                                                                  : column;
      variableRows.emplace_back();
      for (int64_t d = 0; d < input.dim; ++d)
        variableRows.back().push_back(
            perturbed(element(inputs[k], index * input.dim + d), k,
                      index * input.dim + d));
    }
    std::vector<std::vector<double>> result;
    for (auto &values : mk::evaluateFormula(reduce, variableRows))
      result.emplace_back(values.begin(), values.end());
    return result;
  }

  std::vector<std::vector<double>> reduceRow(int64_t row) override {
    std::vector<std::vector<std::vector<double>>> pairs;
    for (int64_t c = 0; c < numColumns; ++c)
      pairs.push_back(evaluatePair(row, c));
    using Kind = mk::ReductionKind;
    switch (reduce.getKind()) {
    case Kind::sum:
      return {sum(pairs)};
    case Kind::logsumexp:
    case Kind::sumsoftmaxweight:
      return {shiftedExpSum(pairs, reduce.getKind() == Kind::logsumexp)};
    case Kind::min:
    case Kind::max:
    case Kind::argmin:
    case Kind::argmax:
    case Kind::min_argmin:
    case Kind::max_argmax:
      return best(pairs, reduce.getKind());
    case Kind::kmin:
    case Kind::argkmin:
    case Kind::kmin_argkmin:
      return kSmallest(pairs, reduce.getKind());
    }
    return {};
  }

private:
  static DialectRegistry makeRegistry() {
    DialectRegistry registry;
    mk::registerAllKeOpsDialects(registry);
    return registry;
  }

  static double element(const keops_rt_array_t &array, int64_t index) {
    return ::keops::readElement(array.data, array.dtype, index);
  }

  /// `value`, element `index` of input `k`, under the perturbation.
  double perturbed(double value, size_t k, int64_t index) const {
    if (perturbation == 0.0)
      return value;
    // splitmix64 of the seed and the place: u in [-1, 1].
    uint64_t z = perturbationSeed ^ (static_cast<uint64_t>(k) << 48) ^
                 static_cast<uint64_t>(index);
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    double u = static_cast<double>(z >> 11) * 0x1.0p-53 * 2.0 - 1.0;
    return value * (1.0 + perturbation * u);
  }

  using Pairs = std::vector<std::vector<std::vector<double>>>;

  std::vector<double> sum(const Pairs &pairs) {
    std::vector<double> total(kernel.getOutputs()[0].dim, 0.0);
    for (const auto &pair : pairs)
      for (size_t k = 0; k < total.size(); ++k)
        total[k] += pair[0][k];
    return total;
  }

  std::vector<double> shiftedExpSum(const Pairs &pairs, bool logSumExp) {
    double m = -std::numeric_limits<double>::infinity();
    for (const auto &pair : pairs)
      m = std::max(m, pair[0][0]);
    bool weighted = !pairs.empty() && pairs[0].size() > 1;
    size_t dim = weighted ? pairs[0][1].size() : 1;
    std::vector<double> sums(dim, 0.0);
    double normalizer = 0.0;
    for (const auto &pair : pairs) {
      // As the kernels: a value equal to the maximum weighs 1 (no inf - inf).
      double e = pair[0][0] == m ? 1.0 : std::exp(pair[0][0] - m);
      normalizer += e;
      for (size_t k = 0; k < dim; ++k)
        sums[k] += e * (weighted ? pair[1][k] : 1.0);
    }
    for (double &s : sums)
      s = logSumExp ? m + std::log(s) : s / normalizer;
    return sums;
  }

  std::vector<std::vector<double>> best(const Pairs &pairs,
                                        mk::ReductionKind kind) {
    using Kind = mk::ReductionKind;
    bool smallest =
        kind == Kind::min || kind == Kind::argmin || kind == Kind::min_argmin;
    size_t dim = pairs.empty() ? 0 : pairs[0][0].size();
    double inf = std::numeric_limits<double>::infinity();
    std::vector<double> values(dim, smallest ? inf : -inf),
        indices(dim, KEOPS_RT_NO_COLUMN);
    for (size_t c = 0; c < pairs.size(); ++c)
      for (size_t k = 0; k < dim; ++k) {
        double v = pairs[c][0][k];
        if (smallest ? v < values[k] : v > values[k]) {
          values[k] = v;
          indices[k] = static_cast<double>(c);
        }
      }
    if (kind == Kind::min || kind == Kind::max)
      return {values};
    if (kind == Kind::argmin || kind == Kind::argmax)
      return {indices};
    return {values, indices};
  }

  std::vector<std::vector<double>> kSmallest(const Pairs &pairs,
                                             mk::ReductionKind kind) {
    int64_t k = static_cast<int64_t>(*reduce.getK());
    size_t dim = pairs.empty() ? 0 : pairs[0][0].size();
    double inf = std::numeric_limits<double>::infinity();
    std::vector<double> values(k * dim, inf), indices(k * dim, KEOPS_RT_NO_COLUMN);
    for (size_t d = 0; d < dim; ++d) {
      // As the kernels: a value enters a list only when it is below +inf
      // (never NaN), the earlier column first among equal values.
      std::vector<size_t> order;
      for (size_t c = 0; c < pairs.size(); ++c)
        if (pairs[c][0][d] < inf)
          order.push_back(c);
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return pairs[a][0][d] < pairs[b][0][d];
      });
      for (int64_t slot = 0; slot < k && slot < (int64_t)order.size(); ++slot) {
        values[slot * dim + d] = pairs[order[slot]][0][d];
        indices[slot * dim + d] = static_cast<double>(order[slot]);
      }
    }
    if (kind == mk::ReductionKind::kmin)
      return {values};
    if (kind == mk::ReductionKind::argkmin)
      return {indices};
    return {values, indices};
  }

  const keops::Kernel &kernel;
  const std::vector<keops_rt_array_t> &inputs;
  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  mk::ReduceOp reduce;
};

} // namespace

keops::ReferenceEvaluator::~ReferenceEvaluator() = default;

llvm::Expected<std::unique_ptr<keops::ReferenceEvaluator>>
keops::ReferenceEvaluator::create(const Kernel &kernel,
                                  const std::vector<keops_rt_array_t> &inputs,
                                  int64_t rowsI, int64_t rowsJ) {
  auto reference =
      std::make_unique<FormulaReference>(kernel, inputs, rowsI, rowsJ);
  if (mlir::failed(reference->parse()))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cannot read the kernel's formula");
  return std::move(reference);
}
