//===- FormulaImporter.cpp - KeOps formula strings to keops IR --*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements importFormula: aliases declare variables by position,
// the formula's reduction gives the keops.reduce kind, axis and K, and its
// formula (and weight) syntax trees become formula ops in the reduce region.
// Every op carries the location "formula":1:column of its text.
//
//===----------------------------------------------------------------------===//

#include "keops/Frontend/FormulaImporter.h"

#include "FormulaOpTable.h"
#include "FormulaParser.h"

#include "keops/Dialect/KeOps/IR/FormulaBuilder.h"
#include "keops/Dialect/KeOps/IR/KeOps.h"
#include "keops/Dialect/KeOps/Transforms/ReductionGradient.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <map>

using namespace mlir;
using namespace mlir::keops;
using formula::Node;

std::string FormulaError::render() const {
  std::string where =
      aliasNumber ? "alias " + std::to_string(aliasNumber) : "formula";
  std::string report = where + ":1:" + std::to_string(column) +
                       ": error: " + message + "\n  " + text + "\n";
  if (column)
    report += std::string(column + 1, ' ') + "^\n";
  return report;
}

llvm::ArrayRef<ReductionSyntax> mlir::keops::getReductionSyntaxes() {
  using A = ReductionSyntax::Arguments;
  using K = ReductionKind;
  static const ReductionSyntax syntaxes[] = {
      {"Sum", K::sum, A::FormulaAxis},
      {"LogSumExp", K::logsumexp, A::FormulaAxisOptionalWeight},
      {"Max_SumShiftExp", K::logsumexp, A::FormulaAxis},
      {"LogSumExpWeight", K::logsumexp, A::FormulaAxisWeight},
      {"Max_SumShiftExpWeight", K::logsumexp, A::FormulaAxisWeight},
      {"SumSoftMaxWeight", K::sumsoftmaxweight, A::FormulaAxisWeight},
      {"SoftMax", K::sumsoftmaxweight, A::FormulaAxisWeight},
      {"Min", K::min, A::FormulaAxis},
      {"Max", K::max, A::FormulaAxis},
      {"ArgMin", K::argmin, A::FormulaAxis},
      {"ArgMax", K::argmax, A::FormulaAxis},
      {"Min_ArgMin", K::min_argmin, A::FormulaAxis},
      {"MinArgMin", K::min_argmin, A::FormulaAxis},
      {"Max_ArgMax", K::max_argmax, A::FormulaAxis},
      {"MaxArgMax", K::max_argmax, A::FormulaAxis},
      {"KMin", K::kmin, A::FormulaKAxis},
      {"ArgKMin", K::argkmin, A::FormulaKAxis},
      {"KMin_ArgKMin", K::kmin_argkmin, A::FormulaKAxis},
      {"KMinArgKMin", K::kmin_argkmin, A::FormulaKAxis},
  };
  return syntaxes;
}

const ReductionSyntax *mlir::keops::lookupReductionSyntax(llvm::StringRef name) {
  for (const ReductionSyntax &syntax : getReductionSyntaxes())
    if (syntax.name == name)
      return &syntax;
  return nullptr;
}

namespace {

/// A variable of the formula, declared by an alias or inline (Var(...)).
struct Variable {
  std::string name;
  int64_t dim;
  Category category;
  /// Where it was declared, for error messages.
  unsigned aliasNumber;
  unsigned column;
  /// Its row in the reduce region.
  Value row;
};

/// What Importer::fail returns: false, a null value or a null module,
/// whichever the failing function returns.
struct ImportFailure {
  operator bool() const { return false; }
  operator Value() const { return nullptr; }
  operator OwningOpRef<ModuleOp>() const { return nullptr; }
};

class Importer {
public:
  Importer(MLIRContext &context, llvm::StringRef formula,
           llvm::ArrayRef<std::string> aliases, const ImportOptions &options,
           FormulaError &error)
      : context(context), builder(&context), formulaText(formula),
        aliases(aliases), options(options), error(error) {}

  OwningOpRef<ModuleOp> run();

private:
  /// Records an error in the formula (aliasNumber 0) or in an alias.
  ImportFailure fail(unsigned aliasNumber, unsigned column,
                     const llvm::Twine &message) {
    error.message = message.str();
    error.aliasNumber = aliasNumber;
    error.column = column;
    error.text = aliasNumber ? aliases[aliasNumber - 1] : formulaText.str();
    return {};
  }
  ImportFailure fail(const Node &node, const llvm::Twine &message) {
    return fail(currentAlias, node.column, message);
  }

  Location locationOf(const Node &node) {
    return FileLineColLoc::get(&context, "formula", 1, node.column);
  }

  bool declareAliases();
  bool declareVariable(const Node &call, const std::string &name);
  bool declareInlineVariables(const Node &node);
  bool isVariableCall(const Node &node) const;
  Value buildFormula(const Node &node);
  Value buildCall(const Node &node);
  Value buildOp(llvm::StringRef name, const Node &at,
                llvm::ArrayRef<Value> formulas,
                llvm::ArrayRef<int64_t> integers = {},
                llvm::ArrayRef<std::vector<int64_t>> tuples = {});
  Value buildPower(const Node &node);
  Value buildDerivative(const Node &node);
  Value buildConstant(const Node &at, llvm::ArrayRef<double> values);
  Value variableRow(const Node &node);
  std::optional<unsigned> variablePosition(const Node &node);
  bool replaceByBackward(ReduceOp forward, const Node &wrapper);

  MLIRContext &context;
  OpBuilder builder;
  llvm::StringRef formulaText;
  llvm::ArrayRef<std::string> aliases;
  const ImportOptions &options;
  FormulaError &error;
  Type elementType;
  /// The alias being read (0 while reading the formula).
  unsigned currentAlias = 0;
  std::map<int64_t, Variable> variables;
  llvm::StringMap<int64_t> positionOfName;
};

} // namespace

//===----------------------------------------------------------------------===//
// Variables
//===----------------------------------------------------------------------===//

bool Importer::isVariableCall(const Node &node) const {
  return node.kind == Node::Kind::Call &&
         llvm::is_contained({"Var", "Vi", "Vj", "Pm", "Vx", "Vy"}, node.text);
}

/// Declares the variable of a Vi/Vj/Pm/Var call, named `name` (maybe empty).
/// Alias forms may omit the position, which is then the alias number - 1.
bool Importer::declareVariable(const Node &call, const std::string &name) {
  bool isVar = call.text == "Var";
  llvm::SmallVector<int64_t, 3> values;
  for (const auto &argument : call.children) {
    std::optional<int64_t> value = argument->asInteger();
    if (!value)
      return fail(*argument, "arguments of '" + call.text +
                                 "' must be integers");
    values.push_back(*value);
  }
  size_t count = values.size();
  bool positionImplied = !isVar && count == 1 && currentAlias;
  if (isVar ? count != 3 : (count != 2 && !positionImplied))
    return fail(call, isVar ? "'Var' takes (position, dim, category)"
                            : "'" + call.text + "' takes (dim) in an alias "
                                  "or (position, dim)");
  int64_t position = positionImplied ? currentAlias - 1 : values[0];
  int64_t dim = positionImplied ? values[0] : values[1];
  Category category;
  if (isVar) {
    if (values[2] < 0 || values[2] > 2)
      return fail(*call.children[2],
                  llvm::formatv("category must be 0 (i), 1 (j) or 2 "
                                "(parameter), got {0}",
                                values[2]));
    category = static_cast<Category>(values[2]);
  } else {
    category = call.text == "Pm" ? Category::param
               : (call.text == "Vi" || call.text == "Vx") ? Category::i
                                                          : Category::j;
  }
  if (position < 0)
    return fail(call, llvm::formatv("position must be >= 0, got {0}", position));
  if (dim < 1 || dim > formula::kMaxFormulaSize)
    return fail(call, llvm::formatv("dimension must be in [1, {0}], got {1}",
                                    formula::kMaxFormulaSize, dim));

  auto [it, inserted] = variables.try_emplace(
      position, Variable{name, dim, category, currentAlias, call.column, {}});
  Variable &existing = it->second;
  if (!inserted) {
    if (existing.dim != dim || existing.category != category ||
        (!name.empty() && !existing.name.empty()))
      return fail(call, llvm::formatv(
                            "position {0} is already declared{1} as {2}({3})",
                            position,
                            existing.name.empty() ? "" : " by '" + existing.name + "'",
                            existing.category == Category::i   ? "Vi"
                            : existing.category == Category::j ? "Vj"
                                                               : "Pm",
                            existing.dim));
    if (existing.name.empty())
      existing.name = name;
  }
  if (!name.empty())
    positionOfName[name] = position;
  return true;
}

bool Importer::declareAliases() {
  for (unsigned number = 1; number <= aliases.size(); ++number) {
    currentAlias = number;
    formula::SyntaxError syntaxError;
    std::optional<formula::Alias> alias =
        formula::parseAlias(aliases[number - 1], syntaxError);
    if (!alias)
      return fail(number, syntaxError.column, syntaxError.message);
    if (!isVariableCall(*alias->value))
      return fail(*alias->value,
                  "an alias must be 'name = Vi(dim)', Vj(dim), Pm(dim), their "
                  "(position, dim) forms or Var(position, dim, category)");
    if (!alias->name.empty() && positionOfName.count(alias->name))
      return fail(number, alias->nameColumn,
                  "alias '" + alias->name + "' is defined twice");
    if (!declareVariable(*alias->value, alias->name))
      return false;
  }
  currentAlias = 0;
  return true;
}

bool Importer::declareInlineVariables(const Node &node) {
  if (isVariableCall(node))
    return declareVariable(node, "");
  for (const auto &child : node.children)
    if (!declareInlineVariables(*child))
      return false;
  return true;
}

Value Importer::variableRow(const Node &node) {
  std::optional<unsigned> position = variablePosition(node);
  return position ? variables.at(*position).row : Value();
}

/// The position of a variable (an alias name or a Var/Vi/Vj/Pm call, which
/// declareInlineVariables declared).
std::optional<unsigned> Importer::variablePosition(const Node &node) {
  if (node.kind == Node::Kind::Name) {
    auto it = positionOfName.find(node.text);
    if (it != positionOfName.end())
      return static_cast<unsigned>(it->second);
    fail(node, "undefined variable '" + node.text +
                   "' (declare it with an alias such as '" + node.text +
                   " = Vi(3)')");
    return std::nullopt;
  }
  if (isVariableCall(node))
    return static_cast<unsigned>(*node.children[0]->asInteger());
  fail(node, "expected a variable");
  return std::nullopt;
}

bool Importer::replaceByBackward(ReduceOp forward, const Node &wrapper) {
  std::optional<unsigned> v = variablePosition(*wrapper.children[1]);
  std::optional<unsigned> eta = v ? variablePosition(*wrapper.children[2])
                                  : std::nullopt;
  std::optional<unsigned> output;
  if (!eta)
    return false;
  if (wrapper.children.size() == 4 &&
      !(output = variablePosition(*wrapper.children[3])))
    return false;
  std::string message;
  if (failed(keops::replaceByBackward(forward, *v, *eta, output, message)))
    return fail(wrapper, "'" + wrapper.text + "': " + message);
  return true;
}

//===----------------------------------------------------------------------===//
// Formula
//===----------------------------------------------------------------------===//

Value Importer::buildConstant(const Node &at, llvm::ArrayRef<double> values) {
  auto type = VectorType::get({static_cast<int64_t>(values.size())},
                              elementType);
  llvm::SmallVector<Attribute> elements;
  for (double value : values)
    elements.push_back(builder.getFloatAttr(elementType, value));
  return ConstantOp::create(
      builder, locationOf(at), type,
      llvm::cast<DenseFPElementsAttr>(DenseElementsAttr::get(type, elements)));
}

Value Importer::buildOp(llvm::StringRef name, const Node &at,
                        llvm::ArrayRef<Value> formulas,
                        llvm::ArrayRef<int64_t> integers,
                        llvm::ArrayRef<std::vector<int64_t>> tuples) {
  const formula::OpSignature *signature = formula::lookupFormulaOp(name);
  auto tooLarge = [](int64_t n) {
    return n > formula::kMaxFormulaSize || n < -formula::kMaxFormulaSize;
  };
  bool large = llvm::any_of(integers, tooLarge);
  for (const std::vector<int64_t> &tuple : tuples)
    large |= llvm::any_of(tuple, tooLarge);
  if (large)
    return fail(at, llvm::formatv("'{0}': integer arguments must be at most "
                                  "{1} in magnitude",
                                  name, formula::kMaxFormulaSize));
  std::string message;
  FailureOr<Value> result = signature->build(
      builder, locationOf(at), {formulas, integers, tuples}, message);
  if (failed(result))
    return fail(at, "'" + name + "': " + message);
  int64_t dim = llvm::cast<VectorType>(result->getType()).getDimSize(0);
  if (dim > formula::kMaxFormulaSize)
    return fail(at, llvm::formatv("'{0}': its value would have {1} "
                                  "components, more than {2}",
                                  name, dim, formula::kMaxFormulaSize));
  return *result;
}

/// `f ** e` with pykeops's rules: 2 -> Square, integer n -> Pow(f, n),
/// 0.5 -> Sqrt, -0.5 -> Rsqrt, any other number or a formula -> Powf.
Value Importer::buildPower(const Node &node) {
  Value base = buildFormula(*node.children[0]);
  if (!base)
    return nullptr;
  const Node &exponent = *node.children[1];
  if (std::optional<int64_t> n = exponent.asInteger())
    return *n == 2 ? buildOp("Square", node, base)
                   : buildOp("Pow", node, base, *n);
  if (std::optional<double> x = exponent.asNumber()) {
    if (*x == 0.5)
      return buildOp("Sqrt", node, base);
    if (*x == -0.5)
      return buildOp("Rsqrt", node, base);
  }
  Value power = buildFormula(exponent);
  return power ? buildOp("Powf", node, {base, power}) : nullptr;
}

/// Grad(F, v, e), Diff(F, v, u), GradMatrix(F, v), Divergence(F, v),
/// Laplacian(F, v) and the linear operators of KeOps (for F linear in v, M
/// its matrix): TraceOperator(F, v) = tr M, AdjointOperator(F, v, u) = M^T u
/// and SumLinOperator(F, v[, wl[, wr]]) = sum_ij wl_i M_ij wr_j; all as
/// keops.grad ops (contracted with unit vectors where a full Jacobian is
/// needed), expanded later by keops-autodiff.
Value Importer::buildDerivative(const Node &node) {
  std::string name = node.text;
  if (name == "TraceOperator")
    name = "Divergence";
  else if (name == "AdjointOperator")
    name = "Grad";
  size_t minimum = name == "Grad" || name == "Diff" ? 3 : 2;
  size_t maximum = name == "SumLinOperator" ? 4 : minimum;
  size_t count = node.children.size();
  if (count < minimum || count > maximum)
    return fail(node, minimum == maximum
                          ? llvm::formatv("'{0}' takes {1} arguments, got {2}",
                                          node.text, minimum, count)
                                .str()
                          : llvm::formatv("'{0}' takes {1} to {2} arguments, "
                                          "got {3}",
                                          node.text, minimum, maximum, count)
                                .str());
  const Node &variableNode = *node.children[1];
  if (variableNode.kind != Node::Kind::Name && !isVariableCall(variableNode))
    return fail(variableNode, "the second argument of '" + name +
                                  "' must be a variable");
  Value f = buildFormula(*node.children[0]);
  Value v = f ? variableRow(variableNode) : nullptr;
  if (!v)
    return nullptr;
  FormulaBuilder g(builder, locationOf(node));
  int64_t dimF = FormulaBuilder::dimOf(f), dimV = FormulaBuilder::dimOf(v);
  // The gradient contracted with each unit vector: the rows of the Jacobian.
  auto jacobianRow = [&](int64_t k) { return g.grad(f, v, g.unit(f, dimF, k)); };
  if (name == "Grad") {
    Value e = buildFormula(*node.children[2]);
    if (!e)
      return nullptr;
    if (FormulaBuilder::dimOf(e) != dimF)
      return fail(*node.children[2],
                  llvm::formatv("'{0}': the gradient input has dimension "
                                "{1} but the formula has dimension {2}",
                                node.text, FormulaBuilder::dimOf(e), dimF));
    return g.grad(f, v, e);
  }
  if (name == "Diff") {
    Value u = buildFormula(*node.children[2]);
    if (!u)
      return nullptr;
    if (FormulaBuilder::dimOf(u) != dimV)
      return fail(*node.children[2],
                  llvm::formatv("'Diff': the direction has dimension {0} but "
                                "the variable has dimension {1}",
                                FormulaBuilder::dimOf(u), dimV));
    return g.diff(f, v, u);
  }
  if (name == "SumLinOperator") {
    // wl^T M wr = (M^T wl) . wr, with scalar weights broadcast.
    Value left = g.splat(f, dimF, 1.0), right = g.splat(v, dimV, 1.0);
    for (size_t k = 2; k < count; ++k) {
      Value weight = buildFormula(*node.children[k]);
      if (!weight)
        return nullptr;
      int64_t expected = k == 2 ? dimF : dimV;
      int64_t dim = FormulaBuilder::dimOf(weight);
      if (dim != 1 && dim != expected)
        return fail(*node.children[k],
                    llvm::formatv("'SumLinOperator': a weight has dimension "
                                  "{0}; expected 1 or {1}",
                                  dim, expected));
      (k == 2 ? left : right) = g.broadcastTo(weight, expected);
    }
    return g.scalProd(g.grad(f, v, left), right);
  }
  if (name == "GradMatrix") {
    Value result = jacobianRow(0);
    for (int64_t k = 1; k < dimF; ++k)
      result = g.concat(result, jacobianRow(k));
    return result;
  }
  if (name == "Laplacian") {
    if (dimF != 1)
      return fail(node, llvm::formatv("'Laplacian' needs a scalar formula, "
                                      "got dimension {0}",
                                      dimF));
    f = g.grad(f, v, g.scalar(f, 1.0));
    dimF = dimV;
  } else if (dimF != dimV) {
    return fail(node, llvm::formatv("'{0}' needs a formula of the "
                                    "variable's dimension {1}, got {2}",
                                    node.text, dimV, dimF));
  }
  Value divergence;
  for (int64_t k = 0; k < dimV; ++k) {
    Value term = g.elem(jacobianRow(k), k);
    divergence = divergence ? g.add(divergence, term) : term;
  }
  return divergence;
}

Value Importer::buildCall(const Node &node) {
  const std::string &name = node.text;
  size_t count = node.children.size();
  if (isVariableCall(node))
    return variableRow(node);

  auto integerArgument = [&](size_t index) -> std::optional<int64_t> {
    std::optional<int64_t> value = node.children[index]->asInteger();
    if (!value)
      fail(*node.children[index], llvm::formatv("argument {0} of '{1}' must "
                                                "be an integer",
                                                index + 1, name));
    return value;
  };
  auto checkCount = [&](size_t expected) {
    if (count == expected)
      return true;
    fail(node, llvm::formatv("'{0}' takes {1} argument{2}, got {3}", name,
                             expected, expected == 1 ? "" : "s", count));
    return false;
  };

  // Constants.
  if (name == "IntCst" || name == "Zero") {
    std::optional<int64_t> value;
    if (!checkCount(1) || !(value = integerArgument(0)))
      return nullptr;
    if (name == "IntCst")
      return buildConstant(node, {static_cast<double>(*value)});
    if (*value < 1)
      return fail(node, "'Zero' needs a dimension >= 1");
    return buildConstant(node, llvm::SmallVector<double>(*value, 0.0));
  }
  if (name == "IntInv") {
    std::optional<int64_t> n;
    if (!checkCount(1) || !(n = integerArgument(0)))
      return nullptr;
    if (*n == 0)
      return fail(*node.children[0], "'IntInv' of 0");
    return buildConstant(node, {1.0 / static_cast<double>(*n)});
  }
  if (name == "Rat" || name == "RatCst") {
    std::optional<int64_t> p, q;
    if (!checkCount(2) || !(p = integerArgument(0)) || !(q = integerArgument(1)))
      return nullptr;
    if (*q == 0)
      return fail(*node.children[1], "'" + name + "' has a zero denominator");
    return buildConstant(node, {static_cast<double>(*p) / *q});
  }
  if (llvm::is_contained({"Grad", "GradMatrix", "Divergence", "Laplacian",
                          "Diff", "TraceOperator", "AdjointOperator",
                          "SumLinOperator"},
                         name))
    return buildDerivative(node);
  if (llvm::StringRef(name).ends_with("_Reduction"))
    return fail(node, "reduction '" + name + "' can only be the outermost "
                      "operation of a formula");

  const formula::OpSignature *signature = formula::lookupFormulaOp(name);
  if (!signature)
    return fail(node, "unknown operation '" + name + "'");
  size_t required = signature->numFormulas + signature->numIntegers +
                    signature->numTuples - signature->numOptionalTuples;
  size_t allowed = required + signature->numOptionalTuples;
  if (count < required || count > allowed) {
    if (required == allowed) {
      checkCount(required);
      return nullptr;
    }
    return fail(node, llvm::formatv("'{0}' takes {1} to {2} arguments, got {3}",
                                    name, required, allowed, count));
  }
  llvm::SmallVector<Value, 3> formulas;
  for (size_t index = 0; index < signature->numFormulas; ++index) {
    Value value = buildFormula(*node.children[index]);
    if (!value)
      return nullptr;
    formulas.push_back(value);
  }
  llvm::SmallVector<int64_t, 2> integers;
  size_t firstTuple = signature->numFormulas + signature->numIntegers;
  for (size_t index = signature->numFormulas; index < firstTuple; ++index) {
    std::optional<int64_t> value = integerArgument(index);
    if (!value)
      return nullptr;
    integers.push_back(*value);
  }
  std::vector<std::vector<int64_t>> tuples;
  for (size_t index = firstTuple; index < count; ++index) {
    std::optional<std::vector<int64_t>> tuple =
        node.children[index]->asIntegerTuple();
    if (!tuple)
      return fail(*node.children[index],
                  llvm::formatv("argument {0} of '{1}' must be a tuple of "
                                "integers such as (2, 3)",
                                index + 1, name));
    tuples.push_back(std::move(*tuple));
  }
  return buildOp(name, node, formulas, integers, tuples);
}

Value Importer::buildFormula(const Node &node) {
  switch (node.kind) {
  case Node::Kind::Number:
    return buildConstant(node, {node.number});
  case Node::Kind::Name:
    return variableRow(node);
  case Node::Kind::Call:
    return buildCall(node);
  case Node::Kind::Tuple:
    return fail(node, "a tuple or list is not a formula");
  case Node::Kind::Unary: {
    Value operand = buildFormula(*node.children[0]);
    return operand ? buildOp("Minus", node, operand) : nullptr;
  }
  case Node::Kind::Binary: {
    if (node.text == "**")
      return buildPower(node);
    Value lhs = buildFormula(*node.children[0]);
    Value rhs = lhs ? buildFormula(*node.children[1]) : nullptr;
    if (!rhs)
      return nullptr;
    llvm::StringRef name = llvm::StringSwitch<llvm::StringRef>(node.text)
                               .Case("+", "Add")
                               .Case("-", "Subtract")
                               .Case("*", "Mult")
                               .Case("/", "Divide")
                               .Case("|", "Scalprod");
    return buildOp(name, node, {lhs, rhs});
  }
  }
  llvm_unreachable("unknown node kind");
}

//===----------------------------------------------------------------------===//
// Reduction
//===----------------------------------------------------------------------===//

OwningOpRef<ModuleOp> Importer::run() {
  elementType = options.elementType ? options.elementType
                                    : Type(builder.getF32Type());
  if (!llvm::isa<Float16Type, Float32Type, Float64Type>(elementType))
    return fail(0, 0, "element type must be f16, f32 or f64");
  if (!declareAliases())
    return nullptr;

  formula::SyntaxError syntaxError;
  std::unique_ptr<Node> parsed =
      formula::parseFormula(formulaText, syntaxError);
  if (!parsed)
    return fail(0, syntaxError.column, syntaxError.message);
  // Grad(R, v, gradin) and Grad_WithSavedForward(R, v, gradin, f0) wrap a
  // reduction R: its backward reduction for v.
  const Node *wrapper = nullptr;
  const Node *root = parsed.get();
  if (root->kind == Node::Kind::Call &&
      (root->text == "Grad_WithSavedForward" ||
       (root->text == "Grad" && !root->children.empty() &&
        root->children[0]->kind == Node::Kind::Call &&
        llvm::StringRef(root->children[0]->text).ends_with("_Reduction")))) {
    size_t expected = root->text == "Grad" ? 3 : 4;
    if (root->children.size() != expected)
      return fail(*root, llvm::formatv("'{0}' takes {1} arguments, got {2}",
                                       root->text, expected,
                                       root->children.size()));
    wrapper = root;
    root = root->children[0].get();
  }

  // The reduction: Name_Reduction(F, axis), (F, axis, G) or (F, K, axis).
  llvm::StringRef callee(root->text);
  if (root->kind != Node::Kind::Call || !callee.ends_with("_Reduction"))
    return fail(*root, "the formula must be a reduction such as "
                       "Sum_Reduction(F, 0)");
  const ReductionSyntax *syntax =
      lookupReductionSyntax(callee.drop_back(strlen("_Reduction")));
  if (!syntax)
    return fail(*root, "unknown reduction '" + callee + "'");
  using A = ReductionSyntax::Arguments;
  const ReductionSyntax &spec = *syntax;
  size_t count = root->children.size();
  bool countOk = spec.arguments == A::FormulaAxis ? count == 2
                 : spec.arguments == A::FormulaAxisOptionalWeight
                     ? (count == 2 || count == 3)
                     : count == 3;
  if (!countOk) {
    const char *usage[] = {"(F, axis)", "(F, axis, weight)",
                           "(F, axis) or (F, axis, weight)", "(F, K, axis)"};
    return fail(*root, "'" + callee + "' takes " +
                           usage[static_cast<int>(spec.arguments)] +
                           llvm::formatv(", got {0} arguments", count));
  }
  bool hasK = spec.arguments == A::FormulaKAxis;
  const Node &axisNode = *root->children[hasK ? 2 : 1];
  std::optional<int64_t> axisTag = axisNode.asInteger();
  if (!axisTag || (*axisTag != 0 && *axisTag != 1))
    return fail(axisNode, "the reduction axis must be 0 (reduce over j, one "
                          "result per i) or 1 (reduce over i)");
  std::optional<int64_t> k;
  if (hasK) {
    k = root->children[1]->asInteger();
    if (!k || *k < 1 || *k > formula::kMaxFormulaSize)
      return fail(*root->children[1],
                  llvm::formatv("K must be an integer in [1, {0}]",
                                formula::kMaxFormulaSize));
  }
  const Node *weightNode = hasK || count == 2 ? nullptr : root->children[2].get();

  if (!declareInlineVariables(wrapper ? *wrapper : *root))
    return nullptr;
  for (int64_t position = 0; position < static_cast<int64_t>(variables.size());
       ++position)
    if (!variables.count(position))
      return fail(0, 0, llvm::formatv("no variable is declared at position "
                                      "{0}: positions must run from 0 without "
                                      "gaps",
                                      position));

  // The function: one argument per variable, in position order.
  Location loc = FileLineColLoc::get(&context, "formula", 1, 1);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  builder.setInsertionPointToEnd(module->getBody());
  llvm::SmallVector<Type> inputTypes;
  llvm::SmallVector<Category> categories;
  for (auto &[position, variable] : variables) {
    inputTypes.push_back(
        variable.category == Category::param
            ? RankedTensorType::get({variable.dim}, elementType)
            : RankedTensorType::get({ShapedType::kDynamic, variable.dim},
                                    elementType));
    categories.push_back(variable.category);
  }

  // The formula (and weight) go into a block that becomes the reduce region.
  auto body = std::make_unique<Block>();
  for (auto &[position, variable] : variables)
    variable.row = body->addArgument(
        ReduceOp::getRowType(llvm::cast<RankedTensorType>(
            inputTypes[position])),
        FileLineColLoc::get(&context, "formula", 1, variable.column));
  builder.setInsertionPointToStart(body.get());
  Value formulaValue = buildFormula(*root->children[0]);
  if (!formulaValue)
    return nullptr;
  llvm::SmallVector<Value, 2> yielded{formulaValue};
  if (weightNode) {
    Value weight = buildFormula(*weightNode);
    if (!weight)
      return nullptr;
    yielded.push_back(weight);
  }
  YieldOp::create(builder, loc, yielded);

  auto dimOf = [](Value v) {
    return llvm::cast<VectorType>(v.getType()).getDimSize(0);
  };
  ReductionKind kind = spec.kind;
  std::string message;
  FailureOr<llvm::SmallVector<Type>> resultVectors = ReduceOp::inferResultTypes(
      kind, k, dimOf(formulaValue), weightNode ? dimOf(yielded[1]) : 0,
      llvm::cast<FloatType>(elementType), message);
  if (failed(resultVectors))
    return fail(*root, "'" + callee + "': " + message);
  for (Type type : *resultVectors) {
    int64_t dim = llvm::cast<RankedTensorType>(type).getDimSize(1);
    if (dim > formula::kMaxFormulaSize)
      return fail(*root, llvm::formatv("'{0}': its result would have {1} "
                                       "components, more than {2}",
                                       callee, dim, formula::kMaxFormulaSize));
  }

  builder.setInsertionPointToEnd(module->getBody());
  auto function = func::FuncOp::create(
      builder, loc, options.functionName,
      builder.getFunctionType(inputTypes, *resultVectors));
  function->setAttr("keops.formula", builder.getStringAttr(formulaText));
  for (auto &[position, variable] : variables)
    if (!variable.name.empty())
      function.setArgAttr(position, "keops.name",
                          builder.getStringAttr(variable.name));
  Block *entry = function.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  auto reduce = ReduceOp::create(builder, loc, *resultVectors,
                                 entry->getArguments(), kind, k,
                                 *axisTag == 0 ? Axis::j : Axis::i, categories);
  Region &region = reduce.getBody();
  region.front().erase();
  region.push_back(body.release());
  func::ReturnOp::create(builder, loc, reduce.getResults());
  if (wrapper && !replaceByBackward(reduce, *wrapper))
    return nullptr;

  if (failed(verify(*module)))
    return fail(0, 0, "internal error: the imported module does not verify");
  return module;
}

OwningOpRef<ModuleOp> mlir::keops::importFormula(
    MLIRContext &context, llvm::StringRef formula,
    llvm::ArrayRef<std::string> aliases, const ImportOptions &options,
    FormulaError &error) {
  context.loadDialect<KeOpsDialect, func::FuncDialect>();
  return Importer(context, formula, aliases, options, error).run();
}
