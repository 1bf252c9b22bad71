//===- ReduceOp.cpp - keops.reduce: builder, syntax, verifier ---*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements keops.reduce: its builder (which creates the entry
// block of variable rows), its custom syntax
//
//   keops.reduce KIND[<K>] over AXIS (%row = %input : CATEGORY, ...)
//       : (input types) -> result types [attributes {...}] { region }
//
// the result types of every reduction kind, and the verifier.
//
//===----------------------------------------------------------------------===//

#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/Dialect/KeOps/IR/ReduceAnalysis.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::keops;

static constexpr llvm::StringRef kElidedAttrs[] = {"kind", "k", "axis",
                                                       "categories"};

static bool isKKind(ReductionKind kind) {
  return kind == ReductionKind::kmin || kind == ReductionKind::argkmin ||
         kind == ReductionKind::kmin_argkmin;
}

static bool isWeightedKind(ReductionKind kind) {
  return kind == ReductionKind::logsumexp ||
         kind == ReductionKind::sumsoftmaxweight;
}

//===----------------------------------------------------------------------===//
// Result types and row types
//===----------------------------------------------------------------------===//

FailureOr<llvm::SmallVector<Type>>
ReduceOp::inferResultTypes(ReductionKind kind, std::optional<int64_t> k,
                           int64_t formulaDim, int64_t weightDim,
                           FloatType elementType, std::string &error) {
  StringRef name = stringifyReductionKind(kind);
  if (isKKind(kind) && !k) {
    error = llvm::formatv("reduction '{0}' requires K", name);
    return failure();
  }
  if (!isKKind(kind) && k) {
    error = llvm::formatv("reduction '{0}' takes no K", name);
    return failure();
  }
  if (weightDim && !isWeightedKind(kind)) {
    error = llvm::formatv("reduction '{0}' takes no weight formula", name);
    return failure();
  }
  if (kind == ReductionKind::sumsoftmaxweight && !weightDim) {
    error = "reduction 'sumsoftmaxweight' requires a weight formula";
    return failure();
  }
  if (isWeightedKind(kind) && formulaDim != 1) {
    error = llvm::formatv("reduction '{0}' requires a scalar formula, got "
                          "dimension {1}",
                          name, formulaDim);
    return failure();
  }
  MLIRContext *ctx = elementType.getContext();
  auto values = [&](int64_t dim) -> Type {
    return RankedTensorType::get({ShapedType::kDynamic, dim}, elementType);
  };
  auto indices = [&](int64_t dim) -> Type {
    return RankedTensorType::get({ShapedType::kDynamic, dim},
                                 IntegerType::get(ctx, 64));
  };
  switch (kind) {
  case ReductionKind::sum:
  case ReductionKind::min:
  case ReductionKind::max:
    return llvm::SmallVector<Type>{values(formulaDim)};
  case ReductionKind::logsumexp:
  case ReductionKind::sumsoftmaxweight:
    return llvm::SmallVector<Type>{values(weightDim ? weightDim : 1)};
  case ReductionKind::argmin:
  case ReductionKind::argmax:
    return llvm::SmallVector<Type>{indices(formulaDim)};
  case ReductionKind::min_argmin:
  case ReductionKind::max_argmax:
    return llvm::SmallVector<Type>{values(formulaDim), indices(formulaDim)};
  case ReductionKind::kmin:
    return llvm::SmallVector<Type>{values(*k * formulaDim)};
  case ReductionKind::argkmin:
    return llvm::SmallVector<Type>{indices(*k * formulaDim)};
  case ReductionKind::kmin_argkmin:
    return llvm::SmallVector<Type>{values(*k * formulaDim),
                                   indices(*k * formulaDim)};
  }
  llvm_unreachable("unknown reduction kind");
}

VectorType ReduceOp::getRowType(RankedTensorType inputType) {
  return VectorType::get({inputType.getShape().back()},
                         inputType.getElementType());
}

YieldOp ReduceOp::getYield() {
  return llvm::cast<YieldOp>(getBody().front().getTerminator());
}

//===----------------------------------------------------------------------===//
// Builder
//===----------------------------------------------------------------------===//

void ReduceOp::build(OpBuilder &builder, OperationState &state,
                     TypeRange resultTypes, ValueRange inputs,
                     ReductionKind kind, std::optional<int64_t> k, Axis axis,
                     llvm::ArrayRef<Category> categories) {
  MLIRContext *ctx = builder.getContext();
  state.addOperands(inputs);
  state.addTypes(resultTypes);
  Properties &props = state.getOrAddProperties<Properties>();
  props.kind = ReductionKindAttr::get(ctx, kind);
  if (k)
    props.k = builder.getI64IntegerAttr(*k);
  props.axis = AxisAttr::get(ctx, axis);
  props.categories = builder.getArrayAttr(llvm::map_to_vector(
      categories,
      [&](Category c) -> Attribute { return CategoryAttr::get(ctx, c); }));
  Block *block = new Block();
  state.addRegion()->push_back(block);
  for (Value input : inputs)
    block->addArgument(
        getRowType(llvm::cast<RankedTensorType>(input.getType())),
        state.location);
}

//===----------------------------------------------------------------------===//
// Custom syntax
//===----------------------------------------------------------------------===//

/// Parses a keyword naming an enum case with `symbolize`.
template <typename EnumT>
static ParseResult
parseEnumKeyword(OpAsmParser &parser, StringRef what,
                 std::optional<EnumT> (*symbolize)(StringRef), EnumT &value) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return failure();
  std::optional<EnumT> parsed = symbolize(keyword);
  if (!parsed)
    return parser.emitError(loc) << "unknown " << what << " '" << keyword
                                 << "'";
  value = *parsed;
  return success();
}

ParseResult ReduceOp::parse(OpAsmParser &parser, OperationState &result) {
  MLIRContext *ctx = parser.getContext();
  Properties &props = result.getOrAddProperties<Properties>();

  ReductionKind kind;
  if (parseEnumKeyword(parser, "reduction kind", symbolizeReductionKind, kind))
    return failure();
  props.kind = ReductionKindAttr::get(ctx, kind);
  if (succeeded(parser.parseOptionalLess())) {
    int64_t k;
    if (parser.parseInteger(k) || parser.parseGreater())
      return failure();
    props.k = parser.getBuilder().getI64IntegerAttr(k);
  }

  Axis axis;
  if (parser.parseKeyword("over") ||
      parseEnumKeyword(parser, "axis", symbolizeAxis, axis))
    return failure();
  props.axis = AxisAttr::get(ctx, axis);

  llvm::SmallVector<OpAsmParser::Argument> rows;
  llvm::SmallVector<OpAsmParser::UnresolvedOperand> inputs;
  llvm::SmallVector<Attribute> categories;
  if (parser.parseCommaSeparatedList(
          AsmParser::Delimiter::Paren, [&]() -> ParseResult {
            Category category;
            if (parser.parseArgument(rows.emplace_back()) ||
                parser.parseEqual() ||
                parser.parseOperand(inputs.emplace_back()) ||
                parser.parseColon() ||
                parseEnumKeyword(parser, "category", symbolizeCategory,
                                 category))
              return failure();
            categories.push_back(CategoryAttr::get(ctx, category));
            return success();
          }))
    return failure();
  props.categories = ArrayAttr::get(ctx, categories);

  SMLoc typesLoc = parser.getCurrentLocation();
  FunctionType types;
  if (parser.parseColonType(types) ||
      parser.resolveOperands(inputs, types.getInputs(), typesLoc,
                             result.operands))
    return failure();
  result.addTypes(types.getResults());
  for (auto [row, type] : llvm::zip_equal(rows, types.getInputs())) {
    auto tensor = llvm::dyn_cast<RankedTensorType>(type);
    if (!tensor || tensor.getRank() == 0 ||
        ShapedType::isDynamic(tensor.getShape().back()))
      return parser.emitError(typesLoc)
             << "inputs must be ranked tensors with a static last "
                "dimension, got "
             << type;
    row.type = getRowType(tensor);
  }

  if (parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();
  return parser.parseRegion(*result.addRegion(), rows);
}

void ReduceOp::print(OpAsmPrinter &p) {
  p << ' ' << stringifyReductionKind(getKind());
  if (std::optional<uint64_t> k = getK())
    p << '<' << *k << '>';
  p << " over " << stringifyAxis(getAxis()) << " (";
  Block &body = getBody().front();
  for (unsigned index = 0, e = getInputs().size(); index < e; ++index) {
    if (index)
      p << ", ";
    p.printRegionArgument(body.getArgument(index), {}, /*omitType=*/true);
    p << " = " << getInputs()[index] << " : "
      << stringifyCategory(getCategory(index));
  }
  p << ") : ";
  p.printFunctionalType(getInputs().getTypes(), getResultTypes());
  p.printOptionalAttrDictWithKeyword((*this)->getAttrs(), kElidedAttrs);
  p << ' ';
  p.printRegion(getBody(), /*printEntryBlockArgs=*/false);
}

//===----------------------------------------------------------------------===//
// Verifier
//===----------------------------------------------------------------------===//

/// Checks that input `index` has the tensor shape its category requires.
static LogicalResult verifyInput(ReduceOp op, unsigned index,
                                 RankedTensorType type, Type elementType) {
  Category category = op.getCategory(index);
  bool isParam = category == Category::param;
  int64_t rank = isParam ? 1 : 2;
  if (type.getRank() != rank || ShapedType::isDynamic(type.getShape().back()))
    return op.emitOpError()
           << "input #" << index << " of category '"
           << stringifyCategory(category) << "' must be a "
           << (isParam ? "tensor<D x T>" : "tensor<? x D x T>")
           << " with a static D, got " << type;
  if (type.getElementType() != elementType)
    return op.emitOpError() << "input #" << index << " has element type "
                            << type.getElementType() << ", expected "
                            << elementType << " like input #0";
  return success();
}

/// Checks that the static row counts agree: inputs of one category among
/// themselves, and the results with the inputs of the category that indexes
/// output rows (1 row when that category has no variable).
static LogicalResult verifyStaticRows(ReduceOp op) {
  int64_t rows[2] = {ShapedType::kDynamic, ShapedType::kDynamic};
  int first[2] = {-1, -1};
  bool present[2] = {false, false};
  for (auto [index, input] : llvm::enumerate(op.getInputs())) {
    Category category = op.getCategory(index);
    if (category == Category::param)
      continue;
    int c = category == Category::i ? 0 : 1;
    present[c] = true;
    int64_t n = llvm::cast<RankedTensorType>(input.getType()).getDimSize(0);
    if (ShapedType::isDynamic(n))
      continue;
    if (!ShapedType::isDynamic(rows[c]) && rows[c] != n)
      return op.emitOpError()
             << "inputs #" << first[c] << " and #" << index << " of category '"
             << stringifyCategory(category) << "' have " << rows[c] << " and "
             << n << " rows";
    rows[c] = n;
    first[c] = static_cast<int>(index);
  }
  int c = op.getAxis() == Axis::j ? 0 : 1;
  int64_t expected = present[c] ? rows[c] : 1;
  for (Type type : op.getResultTypes()) {
    int64_t n = llvm::cast<RankedTensorType>(type).getDimSize(0);
    if (!ShapedType::isDynamic(n) && !ShapedType::isDynamic(expected) &&
        n != expected)
      return op.emitOpError() << "result type " << type << " has " << n
                              << " rows, expected " << expected;
  }
  return success();
}

LogicalResult ReduceOp::verifyRegions() {
  unsigned numInputs = getInputs().size();
  if (getCategories().size() != numInputs)
    return emitOpError() << "has " << numInputs << " inputs but "
                         << getCategories().size() << " categories";

  Block &body = getBody().front();
  if (body.getNumArguments() != numInputs)
    return emitOpError() << "region must have one argument per input ("
                         << numInputs << "), got " << body.getNumArguments();

  for (Operation &op : body.without_terminator())
    if (!llvm::isa<FormulaOpInterface, GradOp>(op))
      return op.emitOpError()
             << "is not a formula op; a keops.reduce region holds formula "
                "ops and keops.grad only";

  YieldOp yield = getYield();
  if (yield.getValues().empty())
    return emitOpError() << "region must yield the formula value";
  if (yield.getValues().size() > 2)
    return emitOpError() << "region yields at most a formula and a weight, got "
                         << yield.getValues().size() << " values";
  auto formulaType = llvm::cast<VectorType>(yield.getValues()[0].getType());
  auto elementType = llvm::cast<FloatType>(formulaType.getElementType());

  for (unsigned index = 0; index < numInputs; ++index) {
    auto type = llvm::cast<RankedTensorType>(getInputs()[index].getType());
    if (failed(verifyInput(*this, index, type, elementType)))
      return failure();
    if (body.getArgument(index).getType() != getRowType(type))
      return emitOpError() << "region argument #" << index << " must be "
                           << getRowType(type) << ", got "
                           << body.getArgument(index).getType();
  }

  int64_t weightDim = 0;
  if (yield.getValues().size() == 2) {
    auto weightType = llvm::cast<VectorType>(yield.getValues()[1].getType());
    if (weightType.getElementType() != elementType)
      return emitOpError() << "weight element type " << weightType
                           << " differs from the formula's " << formulaType;
    weightDim = weightType.getDimSize(0);
  }

  std::string error;
  FailureOr<llvm::SmallVector<Type>> expected =
      inferResultTypes(getKind(), getK(), formulaType.getDimSize(0), weightDim,
                       elementType, error);
  if (failed(expected))
    return emitOpError() << error;
  if (!llvm::equal(*expected, getResultTypes(), [](Type a, Type b) {
        return a == withDynamicRows(b);
      })) {
    InFlightDiagnostic diag = emitOpError() << "reduction '"
                                            << stringifyReductionKind(getKind())
                                            << "' must have result types (";
    llvm::interleaveComma(*expected, diag);
    diag << "), got (";
    llvm::interleaveComma(getResultTypes(), diag);
    return diag << ")";
  }
  return verifyStaticRows(*this);
}
