//===- KeOpsBase.td - keops dialect, base op class and enums -*- tablegen -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// Declares the keops dialect record, the KeOps_Op base class, the enums of
// the dialect (reduction kind, reduction axis, variable category, sum
// scheme) and the
// type constraints of formula values.
//
//===----------------------------------------------------------------------===//

#ifndef KEOPS_DIALECT_KEOPS_IR_KEOPSBASE_TD
#define KEOPS_DIALECT_KEOPS_IR_KEOPSBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Dialect
//===----------------------------------------------------------------------===//

def KeOps_Dialect : Dialect {
  let name = "keops";
  let cppNamespace = "::mlir::keops";
  let summary = "Lazy kernel reductions of symbolic matrices F(x_i, y_j)";
  let description = [{
    The keops dialect represents KeOps-style reductions: `keops.reduce`
    reduces a symbolic formula F(x_i, y_j, p), evaluated for every pair
    (i, j) of two point clouds, over one index axis without ever storing the
    N x M matrix. Formula ops act on one row of each variable, typed
    `vector<D x T>`, and follow KeOps's broadcasting rule: an operand of
    dimension 1 broadcasts against any dimension.
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let hasConstantMaterializer = 1;
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def KeOps_ReductionKind : I32EnumAttr<"ReductionKind",
    "kind of a lazy reduction", [
      I32EnumAttrCase<"sum", 0>,
      I32EnumAttrCase<"logsumexp", 1>,
      I32EnumAttrCase<"sumsoftmaxweight", 2>,
      I32EnumAttrCase<"min", 3>,
      I32EnumAttrCase<"max", 4>,
      I32EnumAttrCase<"argmin", 5>,
      I32EnumAttrCase<"argmax", 6>,
      I32EnumAttrCase<"min_argmin", 7>,
      I32EnumAttrCase<"max_argmax", 8>,
      I32EnumAttrCase<"kmin", 9>,
      I32EnumAttrCase<"argkmin", 10>,
      I32EnumAttrCase<"kmin_argkmin", 11>
    ]> {
  let cppNamespace = "::mlir::keops";
  let genSpecializedAttr = 0;
}
def KeOps_ReductionKindAttr : EnumAttr<KeOps_Dialect, KeOps_ReductionKind,
                                       "reduction">;

def KeOps_Axis : I32EnumAttr<"Axis", "index reduced by a lazy reduction", [
      I32EnumAttrCase<"i", 0>,
      I32EnumAttrCase<"j", 1>
    ]> {
  let cppNamespace = "::mlir::keops";
  let genSpecializedAttr = 0;
}
def KeOps_AxisAttr : EnumAttr<KeOps_Dialect, KeOps_Axis, "axis">;

def KeOps_Category : I32EnumAttr<"Category",
    "how a variable is indexed: by i, by j, or not at all (parameter)", [
      I32EnumAttrCase<"i", 0>,
      I32EnumAttrCase<"j", 1>,
      I32EnumAttrCase<"param", 2>
    ]> {
  let cppNamespace = "::mlir::keops";
  let genSpecializedAttr = 0;
}
def KeOps_CategoryAttr : EnumAttr<KeOps_Dialect, KeOps_Category, "category">;

def KeOps_SumScheme : I32EnumAttr<"SumScheme",
    "how sum-type reductions add values up (KeOps sum_scheme)", [
      I32EnumAttrCase<"BlockSum", 0, "block_sum">,
      I32EnumAttrCase<"KahanScheme", 1, "kahan_scheme">,
      I32EnumAttrCase<"DirectSum", 2, "direct_sum">
    ]> {
  let cppNamespace = "::mlir::keops";
  let genSpecializedAttr = 0;
}
def KeOps_CategoryArrayAttr : TypedArrayAttrBase<KeOps_CategoryAttr,
    "array of variable categories">;

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def KeOps_Float : AnyTypeOf<[F16, F32, F64]>;

/// One row of a variable, or the value of a formula: vector<D x T>.
def KeOps_FormulaVector : VectorOfRankAndType<[1], [F16, F32, F64]>;

/// The value of keops.constant: dense floats of the constant's vector type.
def KeOps_DenseFPVectorAttr : ElementsAttrBase<
    CPred<"::llvm::isa<::mlir::DenseFPElementsAttr>($_self)">,
    "dense floating-point elements attribute"> {
  let storageType = [{ ::mlir::DenseFPElementsAttr }];
  let returnType = [{ ::mlir::DenseFPElementsAttr }];
  let convertFromStorage = "$_self";
}

//===----------------------------------------------------------------------===//
// Base op class
//===----------------------------------------------------------------------===//

class KeOps_Op<string mnemonic, list<Trait> traits = []>
    : Op<KeOps_Dialect, mnemonic, traits>;

#endif // KEOPS_DIALECT_KEOPS_IR_KEOPSBASE_TD
