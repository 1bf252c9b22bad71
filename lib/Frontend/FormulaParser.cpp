//===- FormulaParser.cpp - Parser of KeOps formulas -------------*- C++ -*-===//
//
// This file is licensed under the MIT License.
// SPDX-License-Identifier: MIT
//
//===----------------------------------------------------------------------===//
//
// This file implements the lexer and the recursive-descent parser of the
// KeOps formula language declared in FormulaParser.h.
//
//===----------------------------------------------------------------------===//

#include "FormulaParser.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir::keops::formula;

std::optional<int64_t> Node::asInteger() const {
  if (kind == Kind::Number)
    return integer;
  if (kind == Kind::Unary && text == "-")
    if (std::optional<int64_t> inner = children[0]->asInteger())
      return -*inner;
  return std::nullopt;
}

std::optional<std::vector<int64_t>> Node::asIntegerTuple() const {
  if (std::optional<int64_t> single = asInteger())
    return std::vector<int64_t>{*single};
  if (kind != Kind::Tuple)
    return std::nullopt;
  std::vector<int64_t> values;
  for (const auto &child : children) {
    std::optional<int64_t> value = child->asInteger();
    if (!value)
      return std::nullopt;
    values.push_back(*value);
  }
  return values;
}

std::optional<double> Node::asNumber() const {
  if (kind == Kind::Number)
    return number;
  if (kind == Kind::Unary && text == "-")
    if (std::optional<double> inner = children[0]->asNumber())
      return -*inner;
  return std::nullopt;
}

namespace {

struct Token {
  enum class Kind { End, Name, Number, Punct };
  Kind kind;
  llvm::StringRef text;
  unsigned column;
};

/// Splits the text into tokens; the first bad character is an error.
class Lexer {
public:
  Lexer(llvm::StringRef text) : text(text) {}

  bool tokenize(std::vector<Token> &tokens, SyntaxError &error) {
    size_t pos = 0;
    while (true) {
      while (pos < text.size() && llvm::isSpace(text[pos]))
        ++pos;
      unsigned column = pos + 1;
      if (pos == text.size()) {
        tokens.push_back({Token::Kind::End, "", column});
        return true;
      }
      char c = text[pos];
      size_t start = pos;
      if (llvm::isAlpha(c) || c == '_') {
        while (pos < text.size() && (llvm::isAlnum(text[pos]) || text[pos] == '_'))
          ++pos;
        tokens.push_back({Token::Kind::Name, text.slice(start, pos), column});
      } else if (llvm::isDigit(c) || (c == '.' && pos + 1 < text.size() &&
                                      llvm::isDigit(text[pos + 1]))) {
        pos = scanNumber(pos);
        tokens.push_back({Token::Kind::Number, text.slice(start, pos), column});
      } else if (text.substr(pos).starts_with("**")) {
        pos += 2;
        tokens.push_back({Token::Kind::Punct, "**", column});
      } else if (llvm::StringRef("()[]+-*/|,=").contains(c)) {
        ++pos;
        tokens.push_back({Token::Kind::Punct, text.slice(start, pos), column});
      } else {
        error = {"unexpected character '" + std::string(1, c) + "'", column};
        return false;
      }
    }
  }

private:
  size_t scanNumber(size_t pos) {
    auto digits = [&] {
      while (pos < text.size() && llvm::isDigit(text[pos]))
        ++pos;
    };
    digits();
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      digits();
    }
    if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
      size_t mark = pos++;
      if (pos < text.size() && (text[pos] == '+' || text[pos] == '-'))
        ++pos;
      if (pos < text.size() && llvm::isDigit(text[pos]))
        digits();
      else
        pos = mark;
    }
    return pos;
  }

  llvm::StringRef text;
};

/// Recursive-descent parser over the tokens; stops at the first error.
class Parser {
public:
  Parser(std::vector<Token> tokens, SyntaxError &error)
      : tokens(std::move(tokens)), error(error) {}

  std::unique_ptr<Node> parseExpr() {
    auto lhs = parseAdditive();
    while (lhs && isPunct("|"))
      lhs = binary(std::move(lhs), &Parser::parseAdditive);
    return lhs;
  }

  const Token &peek(size_t ahead = 0) const {
    return tokens[std::min(index + ahead, tokens.size() - 1)];
  }
  bool isPunct(llvm::StringRef text, size_t ahead = 0) const {
    return peek(ahead).kind == Token::Kind::Punct && peek(ahead).text == text;
  }
  const Token &next() { return tokens[std::min(index++, tokens.size() - 1)]; }

  bool expect(llvm::StringRef text) {
    if (isPunct(text)) {
      next();
      return true;
    }
    fail("expected '" + text.str() + "'");
    return false;
  }

  /// Reports an error at the current token.
  std::nullptr_t fail(const std::string &message) {
    if (error.message.empty()) {
      const Token &token = peek();
      std::string found = token.kind == Token::Kind::End
                              ? "end of text"
                              : "'" + token.text.str() + "'";
      error = {message + ", found " + found, token.column};
    }
    return nullptr;
  }

private:
  /// Makes `child` the next child of `node`; false (with an error) when the
  /// tree gets deeper than kMaxFormulaDepth.
  bool adopt(Node &node, std::unique_ptr<Node> child) {
    node.height = std::max(node.height, child->height + 1);
    node.children.push_back(std::move(child));
    if (node.height <= kMaxFormulaDepth)
      return true;
    tooDeep(node.column);
    return false;
  }
  std::nullptr_t tooDeep(unsigned column) {
    if (error.message.empty())
      error = {"the formula is nested more than " +
                   std::to_string(kMaxFormulaDepth) +
                   " levels deep (operators, calls and parentheses)",
               column};
    return nullptr;
  }

  std::unique_ptr<Node> makeNode(Node::Kind kind, unsigned column,
                                 llvm::StringRef text) {
    auto node = std::make_unique<Node>();
    node->kind = kind;
    node->column = column;
    node->text = text.str();
    return node;
  }

  using ParseFn = std::unique_ptr<Node> (Parser::*)();

  /// Consumes the operator at the current token and its right operand.
  std::unique_ptr<Node> binary(std::unique_ptr<Node> lhs, ParseFn parseRhs) {
    const Token &op = next();
    auto node = makeNode(Node::Kind::Binary, op.column, op.text);
    auto rhs = (this->*parseRhs)();
    if (!rhs || !adopt(*node, std::move(lhs)) || !adopt(*node, std::move(rhs)))
      return nullptr;
    return node;
  }

  std::unique_ptr<Node> parseAdditive() {
    auto lhs = parseTerm();
    while (lhs && (isPunct("+") || isPunct("-")))
      lhs = binary(std::move(lhs), &Parser::parseTerm);
    return lhs;
  }

  std::unique_ptr<Node> parseTerm() {
    auto lhs = parseUnary();
    while (lhs && (isPunct("*") || isPunct("/")))
      lhs = binary(std::move(lhs), &Parser::parseUnary);
    return lhs;
  }

  /// parseUnary, which every nested operand, argument and parenthesized
  /// expression goes through: its recursion is bounded.
  std::unique_ptr<Node> parseUnary() {
    if (nesting >= kMaxFormulaDepth)
      return tooDeep(peek().column);
    ++nesting;
    auto node = parseUnaryOperand();
    --nesting;
    return node;
  }

  std::unique_ptr<Node> parseUnaryOperand() {
    if (isPunct("-") || isPunct("+")) {
      const Token &op = next();
      auto operand = parseUnary();
      if (!operand)
        return nullptr;
      if (op.text == "+")
        return operand;
      auto node = makeNode(Node::Kind::Unary, op.column, "-");
      if (!adopt(*node, std::move(operand)))
        return nullptr;
      return node;
    }
    auto base = parsePrimary();
    if (base && isPunct("**"))
      return binary(std::move(base), &Parser::parseUnary);
    return base;
  }

  std::unique_ptr<Node> parsePrimary() {
    const Token &token = peek();
    if (token.kind == Token::Kind::Number) {
      next();
      auto node = makeNode(Node::Kind::Number, token.column, token.text);
      if (token.text.getAsDouble(node->number))
        return fail("invalid number");
      int64_t value;
      if (!token.text.getAsInteger(10, value))
        node->integer = value;
      return node;
    }
    if (token.kind == Token::Kind::Name) {
      next();
      if (!isPunct("("))
        return makeNode(Node::Kind::Name, token.column, token.text);
      next();
      auto call = makeNode(Node::Kind::Call, token.column, token.text);
      if (!isPunct(")")) {
        do {
          auto argument = parseExpr();
          if (!argument)
            return nullptr;
          if (!adopt(*call, std::move(argument)))
            return nullptr;
        } while (isPunct(",") && (next(), true));
      }
      if (!expect(")"))
        return nullptr;
      return call;
    }
    if (isPunct("(") || isPunct("[")) {
      bool list = isPunct("[");
      const Token &open = next();
      llvm::StringRef close = list ? "]" : ")";
      auto tuple = makeNode(Node::Kind::Tuple, open.column, open.text);
      while (!isPunct(close)) {
        auto element = parseExpr();
        if (!element)
          return nullptr;
        if (!adopt(*tuple, std::move(element)))
          return nullptr;
        if (!isPunct(","))
          break;
        next();
        // (x) is a parenthesized expression, (x,) a tuple of one.
        if (!list && tuple->children.size() == 1 && isPunct(")"))
          list = true;
      }
      if (!expect(close))
        return nullptr;
      if (!list && tuple->children.size() == 1)
        return std::move(tuple->children.front());
      return tuple;
    }
    return fail("expected a number, a name or '('");
  }

  std::vector<Token> tokens;
  size_t index = 0;
  unsigned nesting = 0;
  SyntaxError &error;
};

/// Tokenizes `text`, or returns nullopt with the error set.
std::optional<std::vector<Token>> tokenize(llvm::StringRef text,
                                           SyntaxError &error) {
  std::vector<Token> tokens;
  if (!Lexer(text).tokenize(tokens, error))
    return std::nullopt;
  return tokens;
}

} // namespace

std::unique_ptr<Node> mlir::keops::formula::parseFormula(llvm::StringRef text,
                                                         SyntaxError &error) {
  std::optional<std::vector<Token>> tokens = tokenize(text, error);
  if (!tokens)
    return nullptr;
  Parser parser(std::move(*tokens), error);
  auto root = parser.parseExpr();
  if (root && parser.peek().kind != Token::Kind::End)
    return parser.fail("expected end of formula");
  return root;
}

std::optional<Alias> mlir::keops::formula::parseAlias(llvm::StringRef text,
                                                      SyntaxError &error) {
  std::optional<std::vector<Token>> tokens = tokenize(text, error);
  if (!tokens)
    return std::nullopt;
  Parser parser(std::move(*tokens), error);
  Alias alias;
  if (parser.peek().kind == Token::Kind::Name && parser.isPunct("=", 1)) {
    alias.name = parser.peek().text.str();
    alias.nameColumn = parser.peek().column;
    parser.next();
    parser.next();
  }
  alias.value = parser.parseExpr();
  if (!alias.value)
    return std::nullopt;
  if (parser.peek().kind != Token::Kind::End) {
    parser.fail("expected end of alias");
    return std::nullopt;
  }
  return alias;
}
