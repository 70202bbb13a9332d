"""Objectives and constraints written as expressions of observables: ``"J_c"``, ``"J_c / J_h"``,
``"-power"``, ``"cop >= 0.3"``.

An expression is parsed once (Python's own parser, then a whitelist: numbers, observable names,
``+ - * / **``, unary minus, and the functions ``abs``, ``sqrt``, ``log``, ``exp``, ``min``,
``max``) and evaluated with any array module (``numpy`` or ``jax.numpy``), so it is
differentiable with JAX. A constraint is one comparison ``lhs >= rhs`` (or ``<=``, ``>``,
``<``) and evaluates to its slack ``lhs - rhs`` (``rhs - lhs`` for ``<=``), feasible where ≥ 0.
This module knows no model and imports no JAX: names are checked against a model's observables
by the caller.
"""

from __future__ import annotations

import ast
import dataclasses

import numpy as np

from jaxtherm._checks import raise_if

FUNCTIONS = ("abs", "sqrt", "log", "exp", "min", "max")
_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_COMPARE = {ast.GtE: ">=", ast.Gt: ">", ast.LtE: "<=", ast.Lt: "<"}
MAX_DEPTH = 200  # operations nested in one expression: far beyond any objective, well inside Python's recursion


class ExpressionError(ValueError):
    """An expression outside the accepted grammar (the message says what was expected)."""


def _check(node: ast.AST, text: str, depth: int = 0) -> set[str]:
    """Names used by ``node``; ``ExpressionError`` for anything outside the grammar."""
    if depth > MAX_DEPTH:
        raise ExpressionError(f"{_short(text)}: nested more than {MAX_DEPTH} operations deep; expected a shorter expression")
    check = _CHECKS.get(type(node))
    names = check(node, text, depth + 1) if check is not None else None
    if names is None:
        raise ExpressionError(f"{_short(text)}: expected observables, numbers, + - * / **, and {', '.join(FUNCTIONS)}; "
                              f"got {_short(ast.unparse(node))}")
    return names


def _short(text: str) -> str:
    """``repr(text)``, cut short for a message."""
    return repr(text) if len(text) <= 200 else repr(text[:200]) + "…"


def _check_constant(node: ast.Constant, text: str, depth: int) -> set[str] | None:
    number = isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
    return set() if number else None


def _check_name(node: ast.Name, text: str, depth: int) -> set[str]:
    raise_if(node.id in FUNCTIONS, ExpressionError(f"{text!r}: {node.id} is a function; call it as {node.id}(…)"))
    return {node.id}


def _check_binop(node: ast.BinOp, text: str, depth: int) -> set[str] | None:
    if type(node.op) not in _BINARY:
        return None
    return _check(node.left, text, depth) | _check(node.right, text, depth)


def _check_unary(node: ast.UnaryOp, text: str, depth: int) -> set[str] | None:
    if not isinstance(node.op, (ast.USub, ast.UAdd)):
        return None
    return _check(node.operand, text, depth)


def _check_call(node: ast.Call, text: str, depth: int) -> set[str] | None:
    if not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS) or node.keywords:
        return None
    arity = 2 if node.func.id in ("min", "max") else 1
    raise_if(len(node.args) != arity, ExpressionError(f"{text!r}: {node.func.id} takes {arity} argument(s)"))
    return set().union(*(_check(a, text, depth) for a in node.args))


_CHECKS = {
    ast.Expression: lambda node, text, depth: _check(node.body, text, depth),
    ast.Constant: _check_constant,
    ast.Name: _check_name,
    ast.BinOp: _check_binop,
    ast.UnaryOp: _check_unary,
    ast.Call: _check_call,
}


def _parse(text: str, what: str) -> ast.Expression:
    """Python's parse of ``text``; ``ExpressionError`` naming ``what`` was expected."""
    try:
        return ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise ExpressionError(f"{_short(text)} is not {what}") from None
    except (RecursionError, MemoryError):  # the parser's own nesting limits
        raise ExpressionError(f"{_short(text)}: nested or chained too deeply to read; expected {what}") from None


def _eval(node: ast.AST, values, xp):
    if isinstance(node, ast.Expression):
        return _eval(node.body, values, xp)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, values, xp)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        return _binary(node, values, xp)
    args = [_eval(a, values, xp) for a in node.args]
    name = node.func.id
    fn = {"abs": xp.abs, "sqrt": xp.sqrt, "log": xp.log, "exp": xp.exp, "min": xp.minimum, "max": xp.maximum}[name]
    with np.errstate(all="ignore"):
        return fn(*args)


def _binary(node: ast.BinOp, values, xp):
    """``a op b`` of a checked binary node; between two Python numbers in IEEE arithmetic
    (``1/0``, ``10**400``: inf or nan as for arrays, not an exception)."""
    a, b = _eval(node.left, values, xp), _eval(node.right, values, xp)
    if _python_number(a) and _python_number(b):
        a = np.float64(a)
    op = _BINARY[type(node.op)]
    with np.errstate(all="ignore"):  # NumPy's own inf and nan, without a RuntimeWarning
        out = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b, "**": lambda: a**b}[op]()
    return float(out) if isinstance(out, np.float64) else out


def _python_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


@dataclasses.dataclass(frozen=True)
class Expression:
    """A parsed expression of observables: ``text``, the ``names`` it uses, and ``__call__``."""

    text: str
    names: frozenset[str]
    tree: ast.Expression = dataclasses.field(repr=False, compare=False)

    def __call__(self, values, xp):
        """The value for ``values`` (name → array) with the array module ``xp`` (numpy, jax.numpy)."""
        return _eval(self.tree, values, xp)


@dataclasses.dataclass(frozen=True)
class Constraint:
    """``lhs OP rhs``; ``slack`` is ≥ 0 where it holds (``lhs − rhs`` for ``>=``/``>``)."""

    text: str
    lhs: Expression
    op: str
    rhs: Expression

    @property
    def names(self) -> frozenset[str]:
        return self.lhs.names | self.rhs.names

    def slack(self, values, xp):
        a, b = self.lhs(values, xp), self.rhs(values, xp)
        return a - b if self.op in (">=", ">") else b - a


def parse(text: str) -> Expression:
    """Parse an expression such as ``"J_c / J_h"``.

    Raises:
        ExpressionError: not an expression of the accepted grammar.
    """
    raise_if(not isinstance(text, str) or not text.strip(),
             ExpressionError(f"expected an expression of observables such as 'J_c' or 'J_c / J_h'; got {text!r}"))
    tree = _parse(text, "an expression (e.g. 'J_c', 'J_c / J_h', '-power')")
    raise_if(isinstance(tree.body, ast.Compare), ExpressionError(f"{text!r}: a comparison is a constraint, not an objective"))
    return Expression(text.strip(), frozenset(_check(tree, text)), tree)


def parse_constraint(text: str) -> Constraint:
    """Parse a constraint such as ``"cop >= 0.3"`` (one of ``>= > <= <``).

    Raises:
        ExpressionError: not a single comparison of two expressions.
    """
    raise_if(not isinstance(text, str), ExpressionError(f"expected a constraint such as 'cop >= 0.3'; got {text!r}"))
    tree = _parse(text, "a constraint such as 'cop >= 0.3' or 'J_c >= 0'")
    node = tree.body
    raise_if(not (isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE),
             ExpressionError(f"{text!r}: expected one comparison with >=, >, <= or <, such as 'cop >= 0.3'"))
    sides = [ast.Expression(node.left), ast.Expression(node.comparators[0])]
    lhs, rhs = (Expression(ast.unparse(s.body), frozenset(_check(s, text)), s) for s in sides)
    return Constraint(text.strip(), lhs, _COMPARE[type(node.ops[0])], rhs)
