//===- KeOpsTraits.h - Traits of formula ops --------------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file declares the marker traits that code generators read to loop
// over feature dimensions instead of unrolling them:
//
//   Componentwise    result component k depends only on component k of the
//                    operands (dimension-1 operands broadcast)
//   SumOfComponents  a vector<1> result that is the sum over k of the op
//                    applied to component k of its operands (sum, sqnorm2,
//                    scalprod, sqdist)
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_IR_KEOPSTRAITS_H
#define KEOPS_DIALECT_KEOPS_IR_KEOPSTRAITS_H

#include "mlir/IR/OpDefinition.h"

namespace mlir::OpTrait::keops {

template <typename ConcreteType>
class Componentwise : public TraitBase<ConcreteType, Componentwise> {};

template <typename ConcreteType>
class SumOfComponents : public TraitBase<ConcreteType, SumOfComponents> {};

} // namespace mlir::OpTrait::keops

#endif // KEOPS_DIALECT_KEOPS_IR_KEOPSTRAITS_H
