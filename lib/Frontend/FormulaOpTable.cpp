//===- FormulaOpTable.cpp - KeOps op names to keops ops ---------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the table of FormulaOpTable.h. Ops are built with
// their own type inference, whose diagnostic becomes the import error, so
// the importer and the verifiers agree on every dimension rule.
//
//===----------------------------------------------------------------------===//

#include "FormulaOpTable.h"

#include "keops/Dialect/KeOps/IR/FormulaBuilder.h"
#include "keops/Dialect/KeOps/IR/KeOps.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::keops;
using namespace mlir::keops::formula;

/// Builds OpT from `args` with an inferred result type; a failed inference
/// returns failure with its diagnostic in `error`.
template <typename OpT, typename... Args>
static FailureOr<Value> buildInferred(OpBuilder &builder, Location loc,
                                      std::string &error, Args &&...args) {
  MLIRContext *ctx = builder.getContext();
  OperationState state(loc, OpT::getOperationName());
  OpT::build(builder, state, Type(), std::forward<Args>(args)...);
  state.types.clear();
  llvm::SmallVector<Type, 1> types;
  ScopedDiagnosticHandler capture(ctx, [&](Diagnostic &diag) {
    error = diag.str();
    return success();
  });
  if (failed(OpT::inferReturnTypes(ctx, loc, state.operands,
                                   state.attributes.getDictionary(ctx),
                                   state.getRawProperties(), state.regions,
                                   types)))
    return failure();
  state.addTypes(types);
  return builder.create(state)->getResult(0);
}

template <typename OpT>
static OpSignature unary() {
  return {1, 0, [](OpBuilder &b, Location loc, const OpArguments &a,
                   std::string &error) {
            return buildInferred<OpT>(b, loc, error, a.formulas[0]);
          },
          0, 0, OpT::getOperationName()};
}

template <typename OpT>
static OpSignature binary() {
  return {2, 0, [](OpBuilder &b, Location loc, const OpArguments &a,
                   std::string &error) {
            return buildInferred<OpT>(b, loc, error, a.formulas[0],
                                      a.formulas[1]);
          },
          0, 0, OpT::getOperationName()};
}

/// An op of one formula and the integer attribute `attribute` (Pow, Round,
/// Elem, ...).
template <typename OpT>
static OpSignature unaryWithInteger(llvm::StringRef attribute) {
  return {1, 1, [](OpBuilder &b, Location loc, const OpArguments &a,
                   std::string &error) {
            return buildInferred<OpT>(b, loc, error, a.formulas[0],
                                      static_cast<uint64_t>(a.integers[0]));
          },
          0, 0, OpT::getOperationName(), {attribute}};
}

/// An op of one formula and the integer attributes `first` and `second`
/// (Extract, ClampInt, ...).
template <typename OpT>
static OpSignature unaryWithIntegers(llvm::StringRef first,
                                     llvm::StringRef second) {
  return {1, 2, [](OpBuilder &b, Location loc, const OpArguments &a,
                   std::string &error) {
            return buildInferred<OpT>(b, loc, error, a.formulas[0],
                                      static_cast<uint64_t>(a.integers[0]),
                                      static_cast<uint64_t>(a.integers[1]));
          },
          0, 0, OpT::getOperationName(), {first, second}};
}

template <typename OpT>
static OpSignature ternary() {
  return {3, 0, [](OpBuilder &b, Location loc, const OpArguments &a,
                   std::string &error) {
            return buildInferred<OpT>(b, loc, error, a.formulas[0],
                                      a.formulas[1], a.formulas[2]);
          },
          0, 0, OpT::getOperationName()};
}

//===----------------------------------------------------------------------===//
// Compositions: KeOps ops written with other keops ops
//===----------------------------------------------------------------------===//

static int64_t dimOf(Value v) { return FormulaBuilder::dimOf(v); }

static FailureOr<Value> fail(std::string &error, const llvm::Twine &message) {
  error = message.str();
  return failure();
}

static OpSignature composition(unsigned numFormulas, unsigned numIntegers,
                               OpBuildFn build) {
  return {numFormulas, numIntegers, build};
}

/// The tensordot of `x` and `y` with `attributes`, or the error of its type
/// inference.
static FailureOr<Value> buildTensorDot(OpBuilder &b, Location loc, Value x,
                                       Value y,
                                       const TensorDotAttributes &attributes,
                                       std::string &error) {
  return buildInferred<TensorDotOp>(b, loc, error, x, y, attributes.shapeA,
                                    attributes.shapeB, attributes.axesA,
                                    attributes.axesB, attributes.permute);
}

/// A v for A of dimension m*n (row-major) and v of dimension n.
static FailureOr<Value> matVecMult(OpBuilder &b, Location loc,
                                   const OpArguments &a, std::string &error) {
  Value m = a.formulas[0], v = a.formulas[1];
  int64_t n = dimOf(v);
  if (dimOf(m) % n)
    return fail(error, llvm::formatv("the matrix has {0} components, not a "
                                     "multiple of the vector's {1}",
                                     dimOf(m), n));
  return buildTensorDot(b, loc, m, v, {{dimOf(m) / n, n}, {n}, {1}, {0}, {0}},
                        error);
}

/// v^T A for v of dimension m and A of dimension m*n (row-major).
static FailureOr<Value> vecMatMult(OpBuilder &b, Location loc,
                                   const OpArguments &a, std::string &error) {
  Value v = a.formulas[0], m = a.formulas[1];
  int64_t rows = dimOf(v);
  if (dimOf(m) % rows)
    return fail(error, llvm::formatv("the matrix has {0} components, not a "
                                     "multiple of the vector's {1}",
                                     dimOf(m), rows));
  return buildTensorDot(b, loc, v, m,
                        {{rows}, {rows, dimOf(m) / rows}, {0}, {0}, {0}},
                        error);
}

/// The weighted squared norm f^T S f: S isotropic (dimension 1), diagonal
/// (dimension D) or a full symmetric D x D matrix.
static FailureOr<Value> weightedSqNorm(FormulaBuilder &g, Value s, Value f,
                                       std::string &error) {
  int64_t d = dimOf(f);
  if (dimOf(s) == 1)
    return g.mul(s, g.sqNorm2(f));
  if (dimOf(s) == d)
    return g.sum(g.mul(s, g.mul(f, f)));
  if (dimOf(s) == d * d) {
    Value operands[] = {s, f};
    OpArguments product{operands, {}};
    auto sf = matVecMult(g.getBuilder(), s.getLoc(), product, error);
    return failed(sf) ? sf : FailureOr<Value>(g.scalProd(f, *sf));
  }
  return fail(error, llvm::formatv("the weight has dimension {0}; expected 1, "
                                   "{1} or {2} for a vector of dimension {1}",
                                   dimOf(s), d, d * d));
}

//===----------------------------------------------------------------------===//
// Complex numbers: vectors of dimension 2k holding (re, im) pairs
//===----------------------------------------------------------------------===//

using Pair = std::pair<Value, Value>;

/// Checks that `z` holds complex pairs.
static LogicalResult checkComplex(Value z, std::string &error) {
  if (dimOf(z) % 2 == 0)
    return success();
  error = llvm::formatv("complex operands need an even dimension (re, im "
                        "pairs), got {0}",
                        dimOf(z));
  return failure();
}

static Pair pairAt(FormulaBuilder &g, Value z, int64_t p) {
  return {g.elem(z, 2 * p), g.elem(z, 2 * p + 1)};
}

static Value concatAll(FormulaBuilder &g, llvm::ArrayRef<Value> parts) {
  Value result = parts.front();
  for (Value part : parts.drop_front())
    result = g.concat(result, part);
  return result;
}

/// Builds a complex result pair by pair; a single pair broadcasts.
template <typename PairFn>
static FailureOr<Value> complexBinary(OpBuilder &b, Location loc,
                                      const OpArguments &a, std::string &error,
                                      PairFn fn) {
  Value x = a.formulas[0], y = a.formulas[1];
  if (failed(checkComplex(x, error)) || failed(checkComplex(y, error)))
    return failure();
  int64_t nx = dimOf(x) / 2, ny = dimOf(y) / 2;
  if (nx != ny && nx != 1 && ny != 1)
    return fail(error, llvm::formatv("{0} and {1} complex numbers do not "
                                     "broadcast",
                                     nx, ny));
  FormulaBuilder g(b, loc);
  llvm::SmallVector<Value> parts;
  for (int64_t p = 0; p < std::max(nx, ny); ++p) {
    Pair result = fn(g, pairAt(g, x, nx == 1 ? 0 : p), pairAt(g, y, ny == 1 ? 0 : p));
    parts.push_back(result.first);
    parts.push_back(result.second);
  }
  return concatAll(g, parts);
}

/// Maps each pair of a complex operand to the values `fn` returns.
template <typename PairFn>
static FailureOr<Value> complexUnary(OpBuilder &b, Location loc,
                                     const OpArguments &a, std::string &error,
                                     PairFn fn) {
  Value z = a.formulas[0];
  if (failed(checkComplex(z, error)))
    return failure();
  FormulaBuilder g(b, loc);
  llvm::SmallVector<Value> parts;
  for (int64_t p = 0; p < dimOf(z) / 2; ++p)
    for (Value v : fn(g, pairAt(g, z, p)))
      parts.push_back(v);
  return concatAll(g, parts);
}

/// Maps each component of a real operand to the values `fn` returns.
template <typename RealFn>
static FailureOr<Value> realToComplex(OpBuilder &b, Location loc,
                                      const OpArguments &a, std::string &,
                                      RealFn fn) {
  FormulaBuilder g(b, loc);
  llvm::SmallVector<Value> parts;
  for (int64_t k = 0; k < dimOf(a.formulas[0]); ++k)
    for (Value v : fn(g, dimOf(a.formulas[0]) == 1 ? a.formulas[0]
                                                   : g.elem(a.formulas[0], k)))
      parts.push_back(v);
  return concatAll(g, parts);
}

using Values = llvm::SmallVector<Value, 2>;

/// The signature of a complex op taking one or two formulas.
static OpSignature complexOp(unsigned numFormulas, OpBuildFn build) {
  return composition(numFormulas, 0, build);
}

/// The build function's parameters, for the lambdas below.
#define KEOPS_BUILD_ARGS                                                       \
  OpBuilder &b, Location loc, const OpArguments &a, std::string &error

static const llvm::StringMap<OpSignature> &complexOps() {
  static const llvm::StringMap<OpSignature> table = {
      {"ComplexAdd", complexOp(2, [](KEOPS_BUILD_ARGS) -> FailureOr<Value> {
         return complexBinary(b, loc, a, error, [](FormulaBuilder &g, Pair x, Pair y) {
           return Pair{g.add(x.first, y.first), g.add(x.second, y.second)};
         });
       })},
      {"ComplexSubtract", complexOp(2, [](KEOPS_BUILD_ARGS) -> FailureOr<Value> {
         return complexBinary(b, loc, a, error, [](FormulaBuilder &g, Pair x, Pair y) {
           return Pair{g.sub(x.first, y.first), g.sub(x.second, y.second)};
         });
       })},
      {"ComplexMult", complexOp(2, [](KEOPS_BUILD_ARGS) -> FailureOr<Value> {
         return complexBinary(b, loc, a, error, [](FormulaBuilder &g, Pair x, Pair y) {
           return Pair{g.sub(g.mul(x.first, y.first), g.mul(x.second, y.second)),
                       g.add(g.mul(x.first, y.second), g.mul(x.second, y.first))};
         });
       })},
      {"ComplexDivide", complexOp(2, [](KEOPS_BUILD_ARGS) -> FailureOr<Value> {
         return complexBinary(b, loc, a, error, [](FormulaBuilder &g, Pair x, Pair y) {
           Value norm = g.add(g.square(y.first), g.square(y.second));
           return Pair{g.div(g.add(g.mul(x.first, y.first), g.mul(x.second, y.second)), norm),
                       g.div(g.sub(g.mul(x.second, y.first), g.mul(x.first, y.second)), norm)};
         });
       })},
      {"ComplexRealScal", complexOp(2, [](KEOPS_BUILD_ARGS) -> FailureOr<Value> {
         Value z = a.formulas[0], r = a.formulas[1];
         if (failed(checkComplex(z, error)))
           return failure();
         if (dimOf(r) != 1 && dimOf(r) != dimOf(z) / 2)
           return fail(error, llvm::formatv("the real factor has dimension {0}; "
                                            "expected 1 or {1}", dimOf(r), dimOf(z) / 2));
         FormulaBuilder g(b, loc);
         Values parts;
         for (int64_t p = 0; p < dimOf(z) / 2; ++p) {
           Value factor = dimOf(r) == 1 ? r : g.elem(r, p);
           Pair pair = pairAt(g, z, p);
           parts.push_back(g.mul(pair.first, factor));
           parts.push_back(g.mul(pair.second, factor));
         }
         return concatAll(g, parts);
       })},
      {"ComplexExp", complexOp(1, [](KEOPS_BUILD_ARGS) -> FailureOr<Value> {
         return complexUnary(b, loc, a, error, [](FormulaBuilder &g, Pair z) {
           Value scale = g.exp(z.first);
           return Values{g.mul(scale, g.cos(z.second)), g.mul(scale, g.sin(z.second))};
         });
       })},
      {"ComplexExp1j", complexOp(1, [](KEOPS_BUILD_ARGS) -> FailureOr<Value> {
         return realToComplex(b, loc, a, error, [](FormulaBuilder &g, Value x) {
           return Values{g.cos(x), g.sin(x)};
         });
       })},
      {"Real2Complex", complexOp(1, [](KEOPS_BUILD_ARGS) -> FailureOr<Value> {
         return realToComplex(b, loc, a, error, [](FormulaBuilder &g, Value x) {
           return Values{x, g.scalar(x, 0.0)};
         });
       })},
      {"Imag2Complex", complexOp(1, [](KEOPS_BUILD_ARGS) -> FailureOr<Value> {
         return realToComplex(b, loc, a, error, [](FormulaBuilder &g, Value x) {
           return Values{g.scalar(x, 0.0), x};
         });
       })},
      {"ComplexReal", complexOp(1, [](KEOPS_BUILD_ARGS) -> FailureOr<Value> {
         return complexUnary(b, loc, a, error, [](FormulaBuilder &, Pair z) {
           return Values{z.first};
         });
       })},
      {"ComplexImag", complexOp(1, [](KEOPS_BUILD_ARGS) -> FailureOr<Value> {
         return complexUnary(b, loc, a, error, [](FormulaBuilder &, Pair z) {
           return Values{z.second};
         });
       })},
      {"Conj", complexOp(1, [](KEOPS_BUILD_ARGS) -> FailureOr<Value> {
         return complexUnary(b, loc, a, error, [](FormulaBuilder &g, Pair z) {
           return Values{z.first, g.neg(z.second)};
         });
       })},
      {"ComplexSquareAbs", complexOp(1, [](KEOPS_BUILD_ARGS) -> FailureOr<Value> {
         return complexUnary(b, loc, a, error, [](FormulaBuilder &g, Pair z) {
           return Values{g.add(g.square(z.first), g.square(z.second))};
         });
       })},
      {"ComplexAbs", complexOp(1, [](KEOPS_BUILD_ARGS) -> FailureOr<Value> {
         return complexUnary(b, loc, a, error, [](FormulaBuilder &g, Pair z) {
           return Values{g.sqrt(g.add(g.square(z.first), g.square(z.second)))};
         });
       })},
      {"ComplexAngle", complexOp(1, [](KEOPS_BUILD_ARGS) -> FailureOr<Value> {
         return complexUnary(b, loc, a, error, [](FormulaBuilder &g, Pair z) {
           return Values{g.atan2(z.second, z.first)};
         });
       })},
      {"ComplexSumT",
       composition(1, 1,
                   [](OpBuilder &b, Location loc, const OpArguments &a,
                      std::string &error) -> FailureOr<Value> {
                     Value z = a.formulas[0];
                     if (dimOf(z) != 2 || a.integers[0] < 1)
                       return fail(error, "needs one complex number (dimension "
                                          "2) and a count >= 1");
                     FormulaBuilder g(b, loc);
                     Value result = z;
                     for (int64_t p = 1; p < a.integers[0]; ++p)
                       result = g.concat(result, z);
                     return result;
                   })},
      {"ComplexSum", complexOp(1, [](KEOPS_BUILD_ARGS) -> FailureOr<Value> {
         Value z = a.formulas[0];
         if (failed(checkComplex(z, error)))
           return failure();
         FormulaBuilder g(b, loc);
         Pair total = pairAt(g, z, 0);
         for (int64_t p = 1; p < dimOf(z) / 2; ++p) {
           Pair pair = pairAt(g, z, p);
           total = {g.add(total.first, pair.first), g.add(total.second, pair.second)};
         }
         return g.concat(total.first, total.second);
       })},
  };
  return table;
}

#undef KEOPS_BUILD_ARGS

//===----------------------------------------------------------------------===//
// Tensors stored row-major in vectors (Kron, TensorDot)
//===----------------------------------------------------------------------===//

/// Kron(a, b, shape_a, shape_b): the Kronecker product of two tensors of
/// the same rank r, of shape (shape_a[k] * shape_b[k])_k: their tensordot
/// without contraction, a's axis k going to axis 2k and b's to 2k + 1.
static FailureOr<Value> kron(OpBuilder &b, Location loc, const OpArguments &a,
                             std::string &error) {
  llvm::ArrayRef<int64_t> shapeA = a.tuples[0], shapeB = a.tuples[1];
  if (shapeA.size() != shapeB.size())
    return fail(error, "the two shapes must have the same rank");
  TensorDotAttributes attributes{llvm::to_vector(shapeA),
                                 llvm::to_vector(shapeB), {}, {}, {}};
  for (int64_t k = 0, r = shapeA.size(); k < 2 * r; ++k)
    attributes.permute.push_back(k < r ? 2 * k : 2 * (k - r) + 1);
  return buildTensorDot(b, loc, a.formulas[0], a.formulas[1], attributes,
                        error);
}

/// TensorDot(a, b, shape_a, shape_b, axes_a, axes_b[, permute]): sums the
/// products over the paired axes; the result's axes are the other axes of a,
/// then of b, reordered by `permute` as in KeOps: axis t goes to result axis
/// permute[t] (the inverse of numpy.transpose's convention).
static FailureOr<Value> tensorDot(OpBuilder &b, Location loc,
                                  const OpArguments &a, std::string &error) {
  TensorDotAttributes attributes;
  llvm::SmallVector<int64_t> *fields[] = {
      &attributes.shapeA, &attributes.shapeB, &attributes.axesA,
      &attributes.axesB, &attributes.permute};
  for (auto [field, tuple] : llvm::zip(fields, a.tuples))
    field->assign(tuple.begin(), tuple.end());
  if (a.tuples.size() < 5) { // no permutation
    int64_t rank = static_cast<int64_t>(attributes.shapeA.size() +
                                        attributes.shapeB.size() -
                                        2 * attributes.axesA.size());
    for (int64_t t = 0; t < rank; ++t)
      attributes.permute.push_back(t);
  }
  return buildTensorDot(b, loc, a.formulas[0], a.formulas[1], attributes,
                        error);
}

/// BSpline(knots, x, order): the n - order - 1 B-spline basis functions of
/// `order` on the n knots, at the scalar x, by De Boor's recursion from the
/// indicators t_j <= x < t_j+1 (ratios with equal knots are 0, as in KeOps).
static FailureOr<Value> bSpline(OpBuilder &b, Location loc,
                                const OpArguments &a, std::string &error) {
  Value knots = a.formulas[0], x = a.formulas[1];
  int64_t order = a.integers[0], n = dimOf(knots);
  if (dimOf(x) != 1)
    return fail(error, llvm::formatv("B-splines are sampled at a scalar, got "
                                     "dimension {0}",
                                     dimOf(x)));
  if (order < 0 || n < order + 2)
    return fail(error, llvm::formatv("order {0} needs an order >= 0 and at "
                                     "least order + 2 knots, got {1}",
                                     order, n));
  FormulaBuilder g(b, loc);
  auto t = [&](int64_t j) { return g.elem(knots, j); };
  auto lessThan = [&](Value p, Value q) {
    return Value(LessThanOp::create(b, loc, p, q));
  };
  llvm::SmallVector<Value> basis;
  for (int64_t j = 0; j + 1 < n; ++j)
    basis.push_back(g.mul(LessOrEqualOp::create(b, loc, t(j), x),
                          lessThan(x, t(j + 1))));
  // (x - t_i) / (t_i+k - t_i), or 0 when the knots are equal.
  auto ratio = [&](int64_t i, int64_t k) {
    Value distinct = lessThan(t(i), t(i + k));
    Value denominator = g.add(g.sub(t(i + k), t(i)),
                              g.sub(g.scalar(x, 1.0), distinct));
    return g.mul(distinct, g.div(g.sub(x, t(i)), denominator));
  };
  for (int64_t k = 1; k <= order; ++k)
    for (int64_t i = 0; i + k + 1 < n; ++i)
      basis[i] = g.add(g.mul(ratio(i, k), basis[i]),
                       g.mul(g.sub(g.scalar(x, 1.0), ratio(i + 1, k)),
                             basis[i + 1]));
  basis.resize(n - order - 1);
  return concatAll(g, basis);
}

/// SoftDTW_SqDist(x, y, gamma): the soft dynamic time warping distance of
/// the sequences x (n values) and y (m values) with the squared difference
/// cost: r_ij = (x_i - y_j)^2 + softmin_gamma(r_i-1,j-1, r_i-1,j, r_i,j-1),
/// plain sums along the first row and column, the result r_n-1,m-1.
/// softmin_gamma(a) = min(a) - gamma log sum_k exp((min(a) - a_k) / gamma).
/// Unlike KeOps, it differentiates in gamma too.
static FailureOr<Value> softDTWSqDist(OpBuilder &b, Location loc,
                                      const OpArguments &a,
                                      std::string &error) {
  Value x = a.formulas[0], y = a.formulas[1], gamma = a.formulas[2];
  if (dimOf(gamma) != 1)
    return fail(error, llvm::formatv("gamma must be a scalar, got dimension "
                                     "{0}",
                                     dimOf(gamma)));
  FormulaBuilder g(b, loc);
  int64_t n = dimOf(x), m = dimOf(y);
  auto cost = [&](int64_t i, int64_t j) {
    return g.square(g.sub(g.elem(x, i), g.elem(y, j)));
  };
  auto softmin = [&](Value p, Value q, Value r) {
    Value low = g.minOf(g.concat(g.concat(p, q), r));
    auto term = [&](Value v) { return g.exp(g.div(g.sub(low, v), gamma)); };
    return g.sub(low, g.mul(gamma, g.log(g.add(g.add(term(p), term(q)),
                                               term(r)))));
  };
  std::vector<std::vector<Value>> r(n, std::vector<Value>(m));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) {
      Value c = cost(i, j);
      if (i == 0 && j == 0)
        r[i][j] = c;
      else if (i == 0)
        r[i][j] = g.add(c, r[i][j - 1]);
      else if (j == 0)
        r[i][j] = g.add(c, r[i - 1][j]);
      else
        r[i][j] = g.add(c, softmin(r[i - 1][j - 1], r[i - 1][j], r[i][j - 1]));
    }
  return r[n - 1][m - 1];
}

/// WeightedSqNorm restricted to one weight shape: 1 isotropic (dim 1),
/// 2 diagonal (dim D), 3 full (dim D*D).
template <int Shape>
static FailureOr<Value> checkedWeightedSqNorm(OpBuilder &b, Location loc,
                                              const OpArguments &a,
                                              std::string &error) {
  int64_t d = dimOf(a.formulas[1]);
  int64_t expected = Shape == 1 ? 1 : Shape == 2 ? d : d * d;
  if (dimOf(a.formulas[0]) != expected)
    return fail(error, llvm::formatv("the weight must have dimension {0}, got "
                                     "{1}",
                                     expected, dimOf(a.formulas[0])));
  FormulaBuilder g(b, loc);
  return weightedSqNorm(g, a.formulas[0], a.formulas[1], error);
}

static const llvm::StringMap<OpSignature> &formulaOps() {
  static const llvm::StringMap<OpSignature> table = {
      // Arithmetic (also the infix operators + - * / and unary -).
      {"Add", binary<AddOp>()},
      {"Subtract", binary<SubOp>()},
      {"Mult", binary<MulOp>()},
      {"Divide", binary<DivOp>()},
      {"Minus", unary<NegOp>()},
      {"Square", unary<SquareOp>()},
      {"Inv", unary<InvOp>()},
      {"Sqrt", unary<SqrtOp>()},
      {"Rsqrt", unary<RsqrtOp>()},
      {"Abs", unary<AbsOp>()},
      {"Sign", unary<SignOp>()},
      {"Powf", binary<PowfOp>()},
      {"Pow", unaryWithInteger<PowOp>("exponent")},
      // Transcendental and piecewise functions.
      {"Exp", unary<ExpOp>()},
      {"Log", unary<LogOp>()},
      {"Sin", unary<SinOp>()},
      {"Cos", unary<CosOp>()},
      {"Step", unary<StepOp>()},
      {"ReLU", unary<ReluOp>()},
      {"XLogX", unary<XLogXOp>()},
      {"Asin", unary<AsinOp>()},
      {"Acos", unary<AcosOp>()},
      {"Atan", unary<AtanOp>()},
      {"Atan2", binary<Atan2Op>()},
      {"SinXDivX", unary<SinXDivXOp>()},
      {"Floor", unary<FloorOp>()},
      {"Round", unaryWithInteger<RoundOp>("decimals")},
      {"Mod", ternary<ModOp>()},
      {"ClampInt", unaryWithIntegers<ClampIntOp>("low", "high")},
      {"DiffClampInt", unaryWithIntegers<DiffClampIntOp>("low", "high")},
      // Comparisons (0 or 1).
      {"Equal", binary<EqualOp>()},
      {"NotEqual", binary<NotEqualOp>()},
      {"LessThan", binary<LessThanOp>()},
      {"LessOrEqual", binary<LessOrEqualOp>()},
      {"IfElse", ternary<IfElseOp>()},
      {"Clamp", ternary<ClampOp>()},
      // Vector ops.
      {"Sum", unary<SumOp>()},
      {"SqNorm2", unary<SqNorm2Op>()},
      {"Norm2", unary<Norm2Op>()},
      {"Normalize", unary<NormalizeOp>()},
      {"Min", unary<MinOp>()},
      {"Max", unary<MaxOp>()},
      {"ArgMin", unary<ArgMinOp>()},
      {"ArgMax", unary<ArgMaxOp>()},
      {"Scalprod", binary<ScalProdOp>()},
      {"SqDist", binary<SqDistOp>()},
      // Indexing and shaping.
      {"Concat", binary<ConcatOp>()},
      {"OneHot",
       {1, 1,
        [](OpBuilder &b, Location loc, const OpArguments &a,
           std::string &error) {
          if (a.integers[0] < 1) {
            error = "the dimension must be >= 1";
            return FailureOr<Value>(failure());
          }
          return buildInferred<OneHotOp>(b, loc, error, a.formulas[0],
                                         static_cast<uint64_t>(a.integers[0]));
        },
        0, 0, OneHotOp::getOperationName(), {"dim"}}},
      {"Elem", unaryWithInteger<ElemOp>("index")},
      {"Extract", unaryWithIntegers<ExtractOp>("start", "length")},
      // Compositions.
      {"MatVecMult", composition(2, 0, matVecMult)},
      {"Kron", {2, 0, kron, 2, 0}},
      {"BSpline", composition(2, 1, bSpline)},
      {"SoftDTW_SqDist", composition(3, 0, softDTWSqDist)},
      {"TensorDot",
       {2, 0, tensorDot, 5, 1, TensorDotOp::getOperationName(), {},
        {"shape_a", "shape_b", "axes_a", "axes_b", "permute"}}},
      {"VecMatMult", composition(2, 0, vecMatMult)},
      {"TensorProd",
       composition(2, 0,
                   [](OpBuilder &b, Location loc, const OpArguments &a,
                      std::string &error) -> FailureOr<Value> {
                     int64_t m = dimOf(a.formulas[0]), n = dimOf(a.formulas[1]);
                     return buildTensorDot(b, loc, a.formulas[0], a.formulas[1],
                                           {{m}, {n}, {}, {}, {0, 1}}, error);
                   })},
      {"SumT",
       composition(1, 1,
                   [](OpBuilder &b, Location loc, const OpArguments &a,
                      std::string &error) -> FailureOr<Value> {
                     if (dimOf(a.formulas[0]) != 1 || a.integers[0] < 1)
                       return fail(error, "needs a scalar and a dimension >= 1");
                     return FormulaBuilder(b, loc).broadcastTo(a.formulas[0],
                                                               a.integers[0]);
                   })},
      {"ElemT",
       composition(1, 2,
                   [](OpBuilder &b, Location loc, const OpArguments &a,
                      std::string &error) -> FailureOr<Value> {
                     int64_t n = a.integers[0], m = a.integers[1];
                     if (dimOf(a.formulas[0]) != 1 || m < 0 || m >= n)
                       return fail(error, llvm::formatv(
                                              "needs a scalar and 0 <= m < n, "
                                              "got n = {0}, m = {1}",
                                              n, m));
                     return FormulaBuilder(b, loc).inject(a.formulas[0], m, n);
                   })},
      {"ExtractT",
       composition(1, 2,
                   [](OpBuilder &b, Location loc, const OpArguments &a,
                      std::string &error) -> FailureOr<Value> {
                     int64_t start = a.integers[0], dim = a.integers[1];
                     if (start < 0 || start + dimOf(a.formulas[0]) > dim)
                       return fail(error, llvm::formatv(
                                              "components [{0}, {1}) do not "
                                              "fit in dimension {2}",
                                              start,
                                              start + dimOf(a.formulas[0]), dim));
                     return FormulaBuilder(b, loc).inject(a.formulas[0], start,
                                                          dim);
                   })},
      {"WeightedSqNorm",
       composition(2, 0,
                   [](OpBuilder &b, Location loc, const OpArguments &a,
                      std::string &error) {
                     FormulaBuilder g(b, loc);
                     return weightedSqNorm(g, a.formulas[0], a.formulas[1],
                                           error);
                   })},
      {"SqNormIso", composition(2, 0, checkedWeightedSqNorm<1>)},
      {"SqNormDiag", composition(2, 0, checkedWeightedSqNorm<2>)},
      {"SymSqNorm", composition(2, 0, checkedWeightedSqNorm<3>)},
      {"WeightedSqDist",
       composition(3, 0,
                   [](OpBuilder &b, Location loc, const OpArguments &a,
                      std::string &error) -> FailureOr<Value> {
                     if (dimOf(a.formulas[1]) != dimOf(a.formulas[2]))
                       return fail(error, "the two points must have the same "
                                          "dimension");
                     FormulaBuilder g(b, loc);
                     return weightedSqNorm(
                         g, a.formulas[0], g.sub(a.formulas[1], a.formulas[2]),
                         error);
                   })},
  };
  return table;
}

const OpSignature *mlir::keops::formula::lookupFormulaOp(llvm::StringRef name) {
  for (const llvm::StringMap<OpSignature> *table : {&formulaOps(), &complexOps()}) {
    auto it = table->find(name);
    if (it != table->end())
      return &it->second;
  }
  return nullptr;
}

llvm::StringRef mlir::keops::formula::formulaNameOfOp(llvm::StringRef opName) {
  static const llvm::StringMap<llvm::StringRef> names = [] {
    llvm::StringMap<llvm::StringRef> inverse;
    for (const auto &entry : formulaOps()) {
      if (entry.second.opName.empty())
        continue;
      llvm::StringRef &name = inverse[entry.second.opName];
      // Two spellings of one op: the first in alphabetical order, so that
      // the printed text does not depend on the table's hashing.
      if (name.empty() || entry.first() < name)
        name = entry.first();
    }
    return inverse;
  }();
  return names.lookup(opName);
}
