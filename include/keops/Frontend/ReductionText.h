//===- ReductionText.h - A reduction in the formula language ----*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares ReductionText: a reduction of the KeOps formula
// language by parts (name, formula, weight, axis, K), as the formula printer
// writes it and as front ends that build calls from parts (pykeops's Genred)
// read it. Plain data: no MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_FRONTEND_REDUCTIONTEXT_H
#define KEOPS_FRONTEND_REDUCTIONTEXT_H

#include <cstdint>
#include <optional>
#include <string>

namespace mlir::keops {

struct ReductionText {
  std::string name;    // "Sum" of Sum_Reduction: the kind's first spelling
  std::string formula; // F
  std::string weight;  // G of weighted reductions, else ""
  int64_t axis = 0;    // the importer's tag: 0 reduces over j, 1 over i
  std::optional<int64_t> k;
  /// `name_Reduction(F,axis[,G])` or `name_Reduction(F,K,axis)`.
  std::string str() const;
};

} // namespace mlir::keops

#endif // KEOPS_FRONTEND_REDUCTIONTEXT_H
