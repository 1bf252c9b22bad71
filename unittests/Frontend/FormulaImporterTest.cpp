//===- FormulaImporterTest.cpp - Importing valid KeOps formulas -*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file tests the importer on valid formulas: the structure of the
// generated function and reduction, every op of the formula language (the op
// it becomes, its dimension, and its float64 value on fixed rows, against
// values computed here with <cmath>), operator precedence, every reduction
// name and the element types.
//
//===----------------------------------------------------------------------===//

#include "ImportTestUtils.h"

#include "keops/Dialect/KeOps/IR/FormulaEvaluator.h"

#include <cmath>
#include <complex>
#include <functional>

using namespace mlir;
using namespace mlir::keops;
using keops_test::ImportTest;

namespace {

//===----------------------------------------------------------------------===//
// The seed's Gaussian kernel
//===----------------------------------------------------------------------===//

TEST_F(ImportTest, GaussianKernelStructure) {
  auto module = import("Sum_Reduction(Exp(-SqDist(x,y))*b,0)",
                       {"x = Vi(3)", "y = Vj(3)", "b = Vj(1)"});
  ASSERT_TRUE(module) << error.render();
  auto function = *module->getOps<func::FuncOp>().begin();
  EXPECT_EQ(function.getName(), "keops_kernel");
  Type f32 = Float32Type::get(&context);
  auto rows = [&](int64_t d) {
    return RankedTensorType::get({ShapedType::kDynamic, d}, f32);
  };
  EXPECT_EQ(function.getFunctionType(),
            FunctionType::get(&context, {rows(3), rows(3), rows(1)}, {rows(1)}));
  EXPECT_EQ(function.getArgAttrOfType<StringAttr>(1, "keops.name").getValue(),
            "y");

  ReduceOp reduce = reduceOf(*module);
  EXPECT_EQ(reduce.getKind(), ReductionKind::sum);
  EXPECT_EQ(reduce.getAxis(), Axis::j);
  EXPECT_FALSE(reduce.getK().has_value());
  EXPECT_EQ(reduce.getCategory(0), Category::i);
  EXPECT_EQ(reduce.getCategory(1), Category::j);
  EXPECT_EQ(reduce.getCategory(2), Category::j);
  llvm::SmallVector<StringRef> names;
  for (Operation &op : reduce.getBody().front())
    names.push_back(op.getName().getStringRef());
  EXPECT_EQ(names, (llvm::SmallVector<StringRef>{"keops.sqdist", "keops.neg",
                                                 "keops.exp", "keops.mul",
                                                 "keops.yield"}));
  auto value = evaluateFormula(reduce, {{1, 2, 3}, {1, 1, 1}, {0.5}});
  EXPECT_DOUBLE_EQ(value[0][0], std::exp(-5.0) * 0.5);
}

//===----------------------------------------------------------------------===//
// Every op: the keops op it becomes, its dimension and its value
//===----------------------------------------------------------------------===//

using Vec = std::vector<double>;
const Vec X = {0.5, -1.25, 2.0};
const Vec Y = {1.5, 0.25, -0.75};
const Vec B = {0.7};
const Vec S = {2.0};

Vec map(const Vec &v, const std::function<double(double)> &f) {
  Vec out;
  for (double c : v)
    out.push_back(f(c));
  return out;
}
Vec zip(const Vec &a, const Vec &b, const std::function<double(double, double)> &f) {
  Vec out;
  for (size_t k = 0; k < std::max(a.size(), b.size()); ++k)
    out.push_back(f(a[a.size() == 1 ? 0 : k], b[b.size() == 1 ? 0 : k]));
  return out;
}
double dot(const Vec &a, const Vec &b) {
  double total = 0;
  for (size_t k = 0; k < a.size(); ++k)
    total += a[k] * b[k];
  return total;
}

using C = std::complex<double>;
using CVec = std::vector<C>;
CVec Z() { return {C(0.5, -1.25), C(2.0, 0.7)}; }
CVec W() { return {C(1.5, 0.25), C(-0.75, 2.0)}; }
CVec operator+(const CVec &a, const CVec &b) { return {a[0] + b[0], a[1] + b[1]}; }
CVec operator-(const CVec &a, const CVec &b) { return {a[0] - b[0], a[1] - b[1]}; }
CVec operator*(const CVec &a, const CVec &b) { return {a[0] * b[0], a[1] * b[1]}; }
CVec operator/(const CVec &a, const CVec &b) { return {a[0] / b[0], a[1] / b[1]}; }
Vec complexVec(const CVec &z) {
  Vec out;
  for (C c : z) {
    out.push_back(c.real());
    out.push_back(c.imag());
  }
  return out;
}

/// Soft-DTW with the squared difference cost, by its recursion.
double softDTW(const Vec &x, const Vec &y, double gamma) {
  size_t n = x.size(), m = y.size();
  std::vector<Vec> r(n, Vec(m));
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < m; ++j) {
      double c = (x[i] - y[j]) * (x[i] - y[j]);
      if (i == 0 && j == 0)
        r[i][j] = c;
      else if (i == 0)
        r[i][j] = c + r[i][j - 1];
      else if (j == 0)
        r[i][j] = c + r[i - 1][j];
      else
        r[i][j] = c - gamma * std::log(std::exp(-r[i - 1][j - 1] / gamma) +
                                       std::exp(-r[i - 1][j] / gamma) +
                                       std::exp(-r[i][j - 1] / gamma));
    }
  return r[n - 1][m - 1];
}

/// The B-spline basis of `order` at x by the Cox-de Boor recursion.
Vec coxDeBoor(const Vec &t, double x, int order) {
  std::function<double(int, int)> basis = [&](int i, int k) -> double {
    if (k == 0)
      return t[i] <= x && x < t[i + 1] ? 1.0 : 0.0;
    double left = t[i + k] > t[i] ? (x - t[i]) / (t[i + k] - t[i]) : 0.0;
    double right =
        t[i + k + 1] > t[i + 1] ? (t[i + k + 1] - x) / (t[i + k + 1] - t[i + 1]) : 0.0;
    return left * basis(i, k - 1) + right * basis(i + 1, k - 1);
  };
  Vec out;
  for (int i = 0; i + order + 1 < static_cast<int>(t.size()); ++i)
    out.push_back(basis(i, order));
  return out;
}

struct OpCase {
  const char *body;
  /// The op expected in the region (the last op before keops.yield).
  const char *opName;
  std::function<Vec()> expected;
};

void PrintTo(const OpCase &c, std::ostream *os) { *os << c.body; }

class EveryOpTest : public ImportTest,
                    public ::testing::WithParamInterface<OpCase> {};

TEST_P(EveryOpTest, ImportsAndEvaluates) {
  const OpCase &c = GetParam();
  std::string formula = std::string("Sum_Reduction(") + c.body + ", 0)";
  auto module = import(formula, {"x = Vi(3)", "y = Vj(3)", "b = Vj(1)",
                                 "s = Pm(1)"},
                       Float64Type::get(&context));
  ASSERT_TRUE(module) << error.render();
  ReduceOp reduce = reduceOf(*module);
  Operation *last = reduce.getYield()->getPrevNode();
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->getName().getStringRef(), c.opName);

  Vec expected = c.expected();
  auto value = evaluateFormula(reduce, {{X.begin(), X.end()},
                                        {Y.begin(), Y.end()},
                                        {B.begin(), B.end()},
                                        {S.begin(), S.end()}});
  auto type = llvm::cast<VectorType>(reduce.getYield().getValues()[0].getType());
  ASSERT_EQ(type.getDimSize(0), static_cast<int64_t>(expected.size()));
  ASSERT_EQ(value[0].size(), expected.size());
  for (size_t k = 0; k < expected.size(); ++k)
    EXPECT_NEAR(value[0][k], expected[k], 1e-12 * (1 + std::fabs(expected[k])))
        << "component " << k;
}

double sign(double v) { return v > 0 ? 1 : (v < 0 ? -1 : 0); }

INSTANTIATE_TEST_SUITE_P(
    Ops, EveryOpTest,
    ::testing::Values(
        // Arithmetic, named and infix.
        OpCase{"Add(x, y)", "keops.add", [] { return zip(X, Y, std::plus<>()); }},
        OpCase{"x + b", "keops.add", [] { return zip(X, B, std::plus<>()); }},
        OpCase{"Subtract(x, y)", "keops.sub", [] { return zip(X, Y, std::minus<>()); }},
        OpCase{"b - x", "keops.sub", [] { return zip(B, X, std::minus<>()); }},
        OpCase{"Mult(x, y)", "keops.mul", [] { return zip(X, Y, std::multiplies<>()); }},
        OpCase{"x * b", "keops.mul", [] { return zip(X, B, std::multiplies<>()); }},
        OpCase{"Divide(x, y)", "keops.div", [] { return zip(X, Y, std::divides<>()); }},
        OpCase{"x / b", "keops.div", [] { return zip(X, B, std::divides<>()); }},
        OpCase{"Minus(x)", "keops.neg", [] { return map(X, [](double v) { return -v; }); }},
        OpCase{"-x", "keops.neg", [] { return map(X, [](double v) { return -v; }); }},
        OpCase{"Square(x)", "keops.square", [] { return map(X, [](double v) { return v * v; }); }},
        OpCase{"x ** 2", "keops.square", [] { return map(X, [](double v) { return v * v; }); }},
        OpCase{"Inv(x)", "keops.inv", [] { return map(X, [](double v) { return 1 / v; }); }},
        OpCase{"Pow(x, 3)", "keops.pow", [] { return map(X, [](double v) { return v * v * v; }); }},
        OpCase{"x ** -2", "keops.pow", [] { return map(X, [](double v) { return 1 / (v * v); }); }},
        OpCase{"Pow(x, 0)", "keops.pow", [] { return Vec{1, 1, 1}; }},
        OpCase{"Sqrt(b)", "keops.sqrt", [] { return Vec{std::sqrt(0.7)}; }},
        OpCase{"b ** 0.5", "keops.sqrt", [] { return Vec{std::sqrt(0.7)}; }},
        OpCase{"Rsqrt(b)", "keops.rsqrt", [] { return Vec{1 / std::sqrt(0.7)}; }},
        OpCase{"b ** -0.5", "keops.rsqrt", [] { return Vec{1 / std::sqrt(0.7)}; }},
        OpCase{"Rsqrt(x - x)", "keops.rsqrt", [] { return Vec{0, 0, 0}; }},
        OpCase{"Powf(b, y)", "keops.powf", [] { return zip(B, Y, [](double a, double e) { return std::pow(a, e); }); }},
        OpCase{"b ** 1.5", "keops.powf", [] { return Vec{std::pow(0.7, 1.5)}; }},
        OpCase{"b ** s", "keops.powf", [] { return Vec{0.7 * 0.7}; }},
        OpCase{"Abs(x)", "keops.abs", [] { return map(X, [](double v) { return std::fabs(v); }); }},
        OpCase{"Sign(x - Elem(x, 0))", "keops.sign", [] { return map(X, [](double v) { return sign(v - 0.5); }); }},
        // Transcendental and piecewise functions.
        OpCase{"Exp(x)", "keops.exp", [] { return map(X, [](double v) { return std::exp(v); }); }},
        OpCase{"Log(b)", "keops.log", [] { return Vec{std::log(0.7)}; }},
        OpCase{"Sin(x)", "keops.sin", [] { return map(X, [](double v) { return std::sin(v); }); }},
        OpCase{"Cos(x)", "keops.cos", [] { return map(X, [](double v) { return std::cos(v); }); }},
        OpCase{"Step(x - Elem(x, 0))", "keops.step", [] { return Vec{1, 0, 1}; }},
        OpCase{"ReLU(x)", "keops.relu", [] { return Vec{0.5, 0, 2.0}; }},
        OpCase{"IfElse(x, y, b)", "keops.ifelse", [] { return Vec{1.5, 0.7, -0.75}; }},
        OpCase{"Clamp(x, y, IntCst(1))", "keops.clamp", [] { return Vec{1.0, 0.25, 1.0}; }},
        // Vector ops.
        OpCase{"Sum(x)", "keops.sum", [] { return Vec{0.5 - 1.25 + 2.0}; }},
        OpCase{"SqNorm2(x)", "keops.sqnorm2", [] { return Vec{dot(X, X)}; }},
        OpCase{"Norm2(x)", "keops.norm2", [] { return Vec{std::sqrt(dot(X, X))}; }},
        OpCase{"Normalize(x)", "keops.normalize", [] { double n = std::sqrt(dot(X, X)); return map(X, [n](double v) { return v / n; }); }},
        OpCase{"Min(x)", "keops.min", [] { return Vec{-1.25}; }},
        OpCase{"Max(x)", "keops.max", [] { return Vec{2.0}; }},
        OpCase{"ArgMin(x)", "keops.argmin", [] { return Vec{1}; }},
        OpCase{"ArgMax(y)", "keops.argmax", [] { return Vec{0}; }},
        OpCase{"Scalprod(x, y)", "keops.scalprod", [] { return Vec{dot(X, Y)}; }},
        OpCase{"(x | y)", "keops.scalprod", [] { return Vec{dot(X, Y)}; }},
        OpCase{"SqDist(x, y)", "keops.sqdist", [] { Vec d = zip(X, Y, std::minus<>()); return Vec{dot(d, d)}; }},
        OpCase{"SqDist(x, b)", "keops.sqdist", [] { Vec d = zip(X, B, std::minus<>()); return Vec{dot(d, d)}; }},
        // Indexing and shaping.
        OpCase{"Elem(x, 2)", "keops.elem", [] { return Vec{2.0}; }},
        OpCase{"Extract(x, 1, 2)", "keops.extract", [] { return Vec{-1.25, 2.0}; }},
        OpCase{"Concat(b, x)", "keops.concat", [] { return Vec{0.7, 0.5, -1.25, 2.0}; }},
        // Constants and variables.
        OpCase{"IntCst(3)", "keops.constant", [] { return Vec{3}; }},
        OpCase{"Rat(1, 4)", "keops.constant", [] { return Vec{0.25}; }},
        OpCase{"RatCst(-3, 2)", "keops.constant", [] { return Vec{-1.5}; }},
        OpCase{"Zero(2)", "keops.constant", [] { return Vec{0, 0}; }},
        OpCase{"2.5e-1", "keops.constant", [] { return Vec{0.25}; }},
        OpCase{"Var(1, 3, 1) * s", "keops.mul", [] { return zip(Y, S, std::multiplies<>()); }},
        OpCase{"Vi(0, 3) - Vj(1, 3)", "keops.sub", [] { return zip(X, Y, std::minus<>()); }},
        OpCase{"Pm(3, 1) + b", "keops.add", [] { return Vec{2.7}; }},
        // Functions added with autodiff (KeOps formulas/maths).
        OpCase{"XLogX(b)", "keops.xlogx", [] { return Vec{0.7 * std::log(0.7)}; }},
        OpCase{"XLogX(x - x)", "keops.xlogx", [] { return Vec{0, 0, 0}; }},
        OpCase{"Asin(b)", "keops.asin", [] { return Vec{std::asin(0.7)}; }},
        OpCase{"Acos(b)", "keops.acos", [] { return Vec{std::acos(0.7)}; }},
        OpCase{"Atan(x)", "keops.atan", [] { return map(X, [](double v) { return std::atan(v); }); }},
        OpCase{"Atan2(x, y)", "keops.atan2", [] { return zip(X, Y, [](double a, double b) { return std::atan2(a, b); }); }},
        OpCase{"SinXDivX(x)", "keops.sinxdivx", [] { return map(X, [](double v) { return std::sin(v) / v; }); }},
        OpCase{"SinXDivX(x - x)", "keops.sinxdivx", [] { return Vec{1, 1, 1}; }},
        OpCase{"Floor(x)", "keops.floor", [] { return Vec{0, -2, 2}; }},
        OpCase{"Round(x, 0)", "keops.round", [] { return Vec{1, -1, 2}; }},
        OpCase{"Round(x * b, 1)", "keops.round", [] { return Vec{0.4, -0.9, 1.4}; }},
        OpCase{"Mod(x, b, s)", "keops.mod", [] { return map(X, [](double v) { return v - 0.7 * std::floor((v - 2.0) / 0.7); }); }},
        OpCase{"ClampInt(x, -1, 1)", "keops.clamp_int", [] { return Vec{0.5, -1, 1}; }},
        OpCase{"DiffClampInt(x, -1, 1)", "keops.diff_clamp_int", [] { return Vec{1, 0, 0}; }},
        OpCase{"Equal(x, Elem(x, 0))", "keops.equal", [] { return Vec{1, 0, 0}; }},
        OpCase{"NotEqual(x, Elem(x, 0))", "keops.not_equal", [] { return Vec{0, 1, 1}; }},
        OpCase{"LessThan(x, y)", "keops.less_than", [] { return Vec{1, 1, 0}; }},
        OpCase{"LessOrEqual(x, Elem(x, 0))", "keops.less_or_equal", [] { return Vec{1, 1, 0}; }},
        OpCase{"OneHot(b * 3, 3)", "keops.one_hot", [] { return Vec{0, 0, 1}; }},
        OpCase{"IntInv(4)", "keops.constant", [] { return Vec{0.25}; }},
        OpCase{"MatVecMult(Concat(x, y), x)", "keops.tensordot", [] { return Vec{dot(X, X), dot(Y, X)}; }},
        OpCase{"VecMatMult(Concat(b, s), Concat(x, y))", "keops.tensordot", [] { return zip(map(X, [](double v) { return 0.7 * v; }), map(Y, [](double v) { return 2.0 * v; }), std::plus<>()); }},
        OpCase{"TensorProd(Extract(x, 0, 2), y)", "keops.tensordot", [] { Vec r = map(Y, [](double v) { return 0.5 * v; }); for (double v : Y) r.push_back(-1.25 * v); return r; }},
        OpCase{"SumT(b, 3)", "keops.mul", [] { return Vec{0.7, 0.7, 0.7}; }},
        OpCase{"ElemT(b, 3, 1)", "keops.concat", [] { return Vec{0, 0.7, 0}; }},
        OpCase{"ExtractT(Extract(x, 0, 2), 1, 4)", "keops.concat", [] { return Vec{0, 0.5, -1.25, 0}; }},
        OpCase{"WeightedSqNorm(s, x)", "keops.mul", [] { return Vec{2.0 * dot(X, X)}; }},
        OpCase{"SqNormIso(s, x)", "keops.mul", [] { return Vec{2.0 * dot(X, X)}; }},
        OpCase{"SqNormDiag(y, x)", "keops.sum", [] { return Vec{dot(Y, zip(X, X, std::multiplies<>()))}; }},
        OpCase{"SymSqNorm(Concat(Concat(x, y), x), x)", "keops.scalprod", [] { return Vec{0.5 * dot(X, X) - 1.25 * dot(Y, X) + 2.0 * dot(X, X)}; }},
        OpCase{"WeightedSqDist(s, x, y)", "keops.mul", [] { Vec d = zip(X, Y, std::minus<>()); return Vec{2.0 * dot(d, d)}; }},
        // Tensors (row-major): Kron and TensorDot with shape tuples.
        OpCase{"Kron(Extract(x, 0, 2), y, (2,), [3])", "keops.tensordot", [] { Vec r = map(Y, [](double v) { return 0.5 * v; }); for (double v : Y) r.push_back(-1.25 * v); return r; }},
        OpCase{"Kron(Concat(x, Elem(y, 0)), Concat(b, s), (2, 2), (1, 2))", "keops.tensordot", [] { return Vec{0.5 * 0.7, 0.5 * 2, -1.25 * 0.7, -1.25 * 2, 2.0 * 0.7, 2.0 * 2, 1.5 * 0.7, 1.5 * 2}; }},
        OpCase{"TensorDot(Concat(x, y), x, (2, 3), (3,), (1,), (0,))", "keops.tensordot", [] { return Vec{dot(X, X), dot(Y, X)}; }},
        OpCase{"TensorDot(Extract(x, 0, 2), y, (2,), (3,), (), (), (1, 0))", "keops.tensordot", [] { Vec r; for (double yv : Y) for (double xv : {0.5, -1.25}) r.push_back(xv * yv); return r; }},
        OpCase{"TensorDot(Concat(x, y), Concat(y, x), (2, 3), (2, 3), (0, 1), (0, 1))", "keops.tensordot", [] { return Vec{2 * dot(X, Y)}; }},
        // KeOps's permute: axis t goes to result axis permute[t], so the
        // (2, 3, 2) product A[p][q] B[r] comes out as R[q][r][p].
        OpCase{"TensorDot(Concat(x, y), Extract(x, 0, 2), (2, 3), (2,), (), (), (2, 0, 1))", "keops.tensordot", [] { Vec r; for (int q = 0; q < 3; ++q) for (int k = 0; k < 2; ++k) for (const Vec *a : {&X, &Y}) r.push_back((*a)[q] * X[k]); return r; }},
        // B-splines: knots (0, 0.5, 1, 1.5, 2, 2.5) at b = 0.7, against the
        // textbook Cox-de Boor recursion.
        OpCase{"BSpline(Concat(Concat(Zero(1), IntCst(1) / 2), Concat(Concat(IntCst(1), Rat(3, 2)), Concat(IntCst(2), Rat(5, 2)))), b, 0)", "keops.concat", [] { return coxDeBoor({0, 0.5, 1, 1.5, 2, 2.5}, 0.7, 0); }},
        OpCase{"BSpline(Concat(Concat(Zero(1), IntCst(1) / 2), Concat(Concat(IntCst(1), Rat(3, 2)), Concat(IntCst(2), Rat(5, 2)))), b, 2)", "keops.concat", [] { return coxDeBoor({0, 0.5, 1, 1.5, 2, 2.5}, 0.7, 2); }},
        OpCase{"BSpline(Concat(Concat(Zero(2), Concat(IntCst(1), IntCst(1))), IntCst(2)), b, 1)", "keops.concat", [] { return coxDeBoor({0, 0, 1, 1, 2}, 0.7, 1); }},
        // Soft-DTW of x and y with gamma = b, against the plain recursion.
        OpCase{"SoftDTW_SqDist(x, y, b)", "keops.add", [] { return Vec{softDTW(X, Y, 0.7)}; }},
        OpCase{"SoftDTW_SqDist(Concat(x, y), Extract(y, 0, 2), s)", "keops.add", [] { Vec xy = X; xy.insert(xy.end(), Y.begin(), Y.end()); return Vec{softDTW(xy, {1.5, 0.25}, 2.0)}; }},
        // Complex numbers: z = Concat(x, b) = (0.5 - 1.25i, 2 + 0.7i),
        // w = Concat(y, s) = (1.5 + 0.25i, -0.75 + 2i).
        OpCase{"ComplexAdd(Concat(x, b), Concat(y, s))", "keops.concat", [] { return complexVec(Z() + W()); }},
        OpCase{"ComplexSubtract(Concat(x, b), Concat(y, s))", "keops.concat", [] { return complexVec(Z() - W()); }},
        OpCase{"ComplexMult(Concat(x, b), Concat(y, s))", "keops.concat", [] { return complexVec(Z() * W()); }},
        OpCase{"ComplexDivide(Concat(x, b), Concat(y, s))", "keops.concat", [] { return complexVec(Z() / W()); }},
        OpCase{"ComplexMult(Concat(x, b), Extract(y, 0, 2))", "keops.concat", [] { auto z = Z(); return complexVec({z[0] * C(1.5, 0.25), z[1] * C(1.5, 0.25)}); }},
        OpCase{"ComplexRealScal(Concat(x, b), s)", "keops.concat", [] { auto z = Z(); return complexVec({z[0] * 2.0, z[1] * 2.0}); }},
        OpCase{"ComplexExp(Concat(x, b))", "keops.concat", [] { auto z = Z(); return complexVec({std::exp(z[0]), std::exp(z[1])}); }},
        OpCase{"ComplexExp1j(Extract(x, 0, 2))", "keops.concat", [] { return complexVec({std::exp(C(0, 0.5)), std::exp(C(0, -1.25))}); }},
        OpCase{"Real2Complex(Extract(x, 0, 2))", "keops.concat", [] { return Vec{0.5, 0, -1.25, 0}; }},
        OpCase{"Imag2Complex(b)", "keops.concat", [] { return Vec{0, 0.7}; }},
        OpCase{"ComplexReal(Concat(x, b))", "keops.concat", [] { return Vec{0.5, 2.0}; }},
        OpCase{"ComplexImag(Concat(x, b))", "keops.concat", [] { return Vec{-1.25, 0.7}; }},
        OpCase{"Conj(Concat(x, b))", "keops.concat", [] { auto z = Z(); return complexVec({std::conj(z[0]), std::conj(z[1])}); }},
        OpCase{"ComplexAbs(Concat(x, b))", "keops.concat", [] { auto z = Z(); return Vec{std::abs(z[0]), std::abs(z[1])}; }},
        OpCase{"ComplexSquareAbs(Concat(x, b))", "keops.concat", [] { auto z = Z(); return Vec{std::norm(z[0]), std::norm(z[1])}; }},
        OpCase{"ComplexAngle(Concat(x, b))", "keops.concat", [] { auto z = Z(); return Vec{std::arg(z[0]), std::arg(z[1])}; }},
        OpCase{"ComplexSum(Concat(x, b))", "keops.concat", [] { auto z = Z(); return complexVec({z[0] + z[1]}); }},
        OpCase{"ComplexSumT(Concat(b, s), 2)", "keops.concat", [] { return Vec{0.7, 2.0, 0.7, 2.0}; }},
        // Precedence and associativity, as in Python.
        OpCase{"x + y * b", "keops.add", [] { return zip(X, zip(Y, B, std::multiplies<>()), std::plus<>()); }},
        OpCase{"(x + y) * b", "keops.mul", [] { return zip(zip(X, Y, std::plus<>()), B, std::multiplies<>()); }},
        OpCase{"x - y - b", "keops.sub", [] { return zip(zip(X, Y, std::minus<>()), B, std::minus<>()); }},
        OpCase{"x / y / b", "keops.div", [] { return zip(zip(X, Y, std::divides<>()), B, std::divides<>()); }},
        OpCase{"-x ** 2", "keops.neg", [] { return map(X, [](double v) { return -v * v; }); }},
        OpCase{"b ** 2 ** 3", "keops.powf", [] { return Vec{std::pow(0.7, 8)}; }},
        OpCase{"x | y + b", "keops.scalprod", [] { return Vec{dot(X, zip(Y, B, std::plus<>()))}; }},
        OpCase{"2 * x - +y", "keops.sub", [] { return zip(map(X, [](double v) { return 2 * v; }), Y, std::minus<>()); }}));

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

struct ReductionCase {
  const char *formula;
  ReductionKind kind;
  Axis axis;
  std::optional<int64_t> k;
  /// Output dimension of each result; negative for integer (index) results.
  std::vector<int64_t> resultDims;
};

void PrintTo(const ReductionCase &c, std::ostream *os) { *os << c.formula; }

class ReductionNameTest : public ImportTest,
                          public ::testing::WithParamInterface<ReductionCase> {};

TEST_P(ReductionNameTest, Imports) {
  const ReductionCase &c = GetParam();
  auto module = import(c.formula, {"x = Vi(2)", "y = Vj(2)", "w = Vj(4)"});
  ASSERT_TRUE(module) << error.render();
  ReduceOp reduce = reduceOf(*module);
  EXPECT_EQ(reduce.getKind(), c.kind);
  EXPECT_EQ(reduce.getAxis(), c.axis);
  EXPECT_EQ(reduce.getK(), c.k);
  ASSERT_EQ(reduce.getNumResults(), c.resultDims.size());
  for (auto [result, dim] : llvm::zip_equal(reduce.getResults(), c.resultDims)) {
    auto type = llvm::cast<RankedTensorType>(result.getType());
    EXPECT_EQ(type.getDimSize(1), std::abs(dim));
    EXPECT_EQ(type.getElementType().isInteger(64), dim < 0);
  }
}

using K = ReductionKind;
INSTANTIATE_TEST_SUITE_P(
    Reductions, ReductionNameTest,
    ::testing::Values(
        ReductionCase{"Sum_Reduction(x - y, 0)", K::sum, Axis::j, {}, {2}},
        ReductionCase{"Sum_Reduction(x - y, 1)", K::sum, Axis::i, {}, {2}},
        ReductionCase{"LogSumExp_Reduction(-SqDist(x, y), 0)", K::logsumexp, Axis::j, {}, {1}},
        ReductionCase{"LogSumExp_Reduction(-SqDist(x, y), 1, w)", K::logsumexp, Axis::i, {}, {4}},
        ReductionCase{"LogSumExpWeight_Reduction(-SqDist(x, y), 0, w)", K::logsumexp, Axis::j, {}, {4}},
        ReductionCase{"Max_SumShiftExp_Reduction(-SqDist(x, y), 0)", K::logsumexp, Axis::j, {}, {1}},
        ReductionCase{"Max_SumShiftExpWeight_Reduction(-SqDist(x, y), 0, w)", K::logsumexp, Axis::j, {}, {4}},
        ReductionCase{"SumSoftMaxWeight_Reduction(-SqDist(x, y), 0, w)", K::sumsoftmaxweight, Axis::j, {}, {4}},
        ReductionCase{"SoftMax_Reduction(-SqDist(x, y), 0, w)", K::sumsoftmaxweight, Axis::j, {}, {4}},
        ReductionCase{"Min_Reduction(x - y, 0)", K::min, Axis::j, {}, {2}},
        ReductionCase{"Max_Reduction(x - y, 1)", K::max, Axis::i, {}, {2}},
        ReductionCase{"ArgMin_Reduction(x - y, 0)", K::argmin, Axis::j, {}, {-2}},
        ReductionCase{"ArgMax_Reduction(x - y, 0)", K::argmax, Axis::j, {}, {-2}},
        ReductionCase{"Min_ArgMin_Reduction(x - y, 0)", K::min_argmin, Axis::j, {}, {2, -2}},
        ReductionCase{"MinArgMin_Reduction(x - y, 0)", K::min_argmin, Axis::j, {}, {2, -2}},
        ReductionCase{"Max_ArgMax_Reduction(x - y, 1)", K::max_argmax, Axis::i, {}, {2, -2}},
        ReductionCase{"MaxArgMax_Reduction(x - y, 1)", K::max_argmax, Axis::i, {}, {2, -2}},
        ReductionCase{"KMin_Reduction(x - y, 3, 0)", K::kmin, Axis::j, 3, {6}},
        ReductionCase{"ArgKMin_Reduction(SqDist(x, y), 5, 0)", K::argkmin, Axis::j, 5, {-5}},
        ReductionCase{"KMin_ArgKMin_Reduction(SqDist(x, y), 2, 1)", K::kmin_argkmin, Axis::i, 2, {2, -2}},
        ReductionCase{"KMinArgKMin_Reduction(SqDist(x, y), 2, 1)", K::kmin_argkmin, Axis::i, 2, {2, -2}}));

//===----------------------------------------------------------------------===//
// Element types and variables
//===----------------------------------------------------------------------===//

TEST_F(ImportTest, ElementTypes) {
  for (Type type : {Type(Float16Type::get(&context)),
                    Type(Float32Type::get(&context)),
                    Type(Float64Type::get(&context))}) {
    auto module = import("Sum_Reduction(x * p, 0)", {"x = Vi(2)", "p = Pm(2)"},
                         type);
    ASSERT_TRUE(module) << error.render();
    ReduceOp reduce = reduceOf(*module);
    EXPECT_EQ(reduce.getInputs()[1].getType(), RankedTensorType::get({2}, type));
    EXPECT_EQ(reduce.getResult(0).getType(),
              RankedTensorType::get({ShapedType::kDynamic, 2}, type));
  }
}

TEST_F(ImportTest, UnusedAliasIsStillAnInput) {
  auto module = import("Sum_Reduction(x, 0)", {"x = Vi(2)", "unused = Vj(5)"});
  ASSERT_TRUE(module) << error.render();
  ReduceOp reduce = reduceOf(*module);
  ASSERT_EQ(reduce.getInputs().size(), 2u);
  EXPECT_EQ(reduce.getCategory(1), Category::j);
}

TEST_F(ImportTest, FormulaWithoutVariables) {
  auto module = import("Sum_Reduction(IntCst(1), 1)", {});
  ASSERT_TRUE(module) << error.render();
  EXPECT_TRUE(reduceOf(*module).getInputs().empty());
}

TEST_F(ImportTest, PositionsOverrideAliasOrder) {
  auto module = import("Sum_Reduction(a - b, 0)", {"b = Vj(1, 2)", "a = Vi(0, 2)"});
  ASSERT_TRUE(module) << error.render();
  ReduceOp reduce = reduceOf(*module);
  EXPECT_EQ(reduce.getCategory(0), Category::i);
  EXPECT_EQ(reduce.getCategory(1), Category::j);
}

TEST_F(ImportTest, DerivativesBecomeGradOps) {
  struct Case {
    const char *formula;
    int grads;
    int64_t dim;
  };
  for (Case c : {Case{"Grad(Exp(-SqDist(x, y)), x, b)", 1, 3},
                 Case{"Grad(Grad(Exp(x | y), x, b), y, x)", 2, 3},
                 Case{"GradMatrix(Sin(x), y)", 3, 9},
                 Case{"Divergence(Sin(x * y), x)", 3, 1},
                 Case{"Laplacian(Exp(x | y), x)", 4, 1},
                 Case{"Diff(Sin(x), y, x)", 3, 3}}) {
    auto module = import(std::string("Sum_Reduction(") + c.formula + ", 0)",
                         {"x = Vi(3)", "y = Vj(3)", "b = Vj(1)"});
    ASSERT_TRUE(module) << error.render();
    int grads = 0;
    module->walk([&](GradOp) { ++grads; });
    EXPECT_EQ(grads, c.grads) << c.formula;
    auto type = llvm::cast<VectorType>(
        reduceOf(*module).getYield().getValues()[0].getType());
    EXPECT_EQ(type.getDimSize(0), c.dim) << c.formula;
  }
}

TEST_F(ImportTest, OpsCarryTheirColumn) {
  auto module = import("Sum_Reduction(x + Exp(x), 0)", {"x = Vi(2)"});
  ASSERT_TRUE(module) << error.render();
  module->walk([](ExpOp exp) {
    auto loc = llvm::cast<FileLineColLoc>(exp.getLoc());
    EXPECT_EQ(loc.getColumn(), 19u);
  });
}

} // namespace
