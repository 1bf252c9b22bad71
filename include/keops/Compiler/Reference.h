//===- Reference.h - float64 reference of a compiled kernel -----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares ReferenceEvaluator: the float64 values of a kernel's
// outputs on chosen rows, computed from the imported formula by evaluating
// every pair directly (FormulaEvaluator) and reducing with plain loops, with
// no tiling and no generated code. keops-run --check compares kernels to it.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_COMPILER_REFERENCE_H
#define KEOPS_COMPILER_REFERENCE_H

#include "keops/Compiler/Compiler.h"

#include <memory>

namespace keops {

class ReferenceEvaluator {
public:
  /// Reads `kernel`'s formula; `inputs` must outlive the evaluator.
  static llvm::Expected<std::unique_ptr<ReferenceEvaluator>>
  create(const Kernel &kernel, const std::vector<keops_rt_array_t> &inputs,
         int64_t rowsI, int64_t rowsJ);
  virtual ~ReferenceEvaluator();

  int64_t getNumRows() const { return numRows; }
  int64_t getNumColumns() const { return numColumns; }

  /// The formula (then weight) components at output row `row`, reduced
  /// column `column`.
  virtual std::vector<std::vector<double>> evaluatePair(int64_t row,
                                                        int64_t column) = 0;
  /// The outputs of row `row`: one vector of output-dim values per output
  /// (indices as doubles).
  virtual std::vector<std::vector<double>> reduceRow(int64_t row) = 0;

  /// From now on, every input element x reads as x * (1 + relative * u),
  /// u in [-1, 1] a hash of `seed` and the element's place (0 relative:
  /// the inputs as they are). A kernel in float32 rounds its intermediate
  /// values; where the formula jumps (Floor, Sign, comparisons) near the
  /// inputs, its result is the reference of slightly perturbed inputs.
  void perturb(uint64_t seed, double relative) {
    perturbationSeed = seed;
    perturbation = relative;
  }

protected:
  int64_t numRows = 0, numColumns = 0;
  uint64_t perturbationSeed = 0;
  double perturbation = 0.0;
};

} // namespace keops

#endif // KEOPS_COMPILER_REFERENCE_H
