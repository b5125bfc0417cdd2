"""Validation-rule expressions over indicator codes, e.g. `SA14 - SA15 <= SA01` or `SA12.N <= SA12.D`.

An operand is arithmetic (+ - * /, parentheses, numbers) over references: an indicator code
(its total value) or `CODE.N` / `CODE.D` (a ratio's numerator / denominator). Expressions are
parsed with Python's `ast` and only these node types are accepted, so nothing else can run.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from indicators.figures import COMPONENT_OF_SUFFIX, figure_code

OPERATORS = ("<=", "<", ">=", ">", "==", "!=")
CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,19}$")
COMPONENT_SUFFIX = {suffix[1:]: component for suffix, component in COMPONENT_OF_SUFFIX.items()}  # N, D


class ExpressionError(ValueError):
    """An expression that is not valid arithmetic over indicator references."""


@dataclass(frozen=True)
class Reference:
    """A figure an expression uses: an indicator's total or one component of a ratio."""

    indicator: str
    component: str  # value | numerator | denominator

    @property
    def name(self) -> str:
        return figure_code(self.indicator, self.component)

    @property
    def column(self) -> str:
        """A safe identifier for the reference (used as a DataFrame column)."""
        return f"{self.indicator}__{self.component}"


def _reference(node: ast.AST, text: str) -> Reference:
    if isinstance(node, ast.Name):
        if not CODE_RE.match(node.id):
            raise ExpressionError(f"{node.id!r} in {text!r} is not an indicator code (e.g. SA01).")
        return Reference(node.id, "value")
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        if node.attr not in COMPONENT_SUFFIX:
            raise ExpressionError(
                f"{node.value.id}.{node.attr} in {text!r}: use .N (numerator) or .D (denominator)."
            )
        return Reference(node.value.id, COMPONENT_SUFFIX[node.attr])
    raise ExpressionError(f"{text!r} is not valid: unexpected {ast.dump(node)[:40]}.")


_BINOPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide}


@dataclass(frozen=True)
class Expression:
    """A parsed arithmetic expression; evaluates over a DataFrame of reference columns."""

    text: str
    tree: ast.expr

    @classmethod
    def parse(cls, text: str) -> Expression:
        text = text.strip()
        if not text:
            raise ExpressionError("An expression is empty.")
        try:
            tree = ast.parse(text, mode="eval").body
        except SyntaxError as exc:
            raise ExpressionError(f"{text!r} is not a valid expression: {exc.msg}.") from None
        expression = cls(text, tree)
        expression.references()  # validates every node
        return expression

    def references(self) -> list[Reference]:
        found: list[Reference] = []

        def walk(node: ast.AST) -> None:
            if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
                walk(node.left)
                walk(node.right)
            elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
                walk(node.operand)
            elif isinstance(node, ast.Constant) and isinstance(node.value, int | float):
                return
            else:
                ref = _reference(node, self.text)
                if ref not in found:
                    found.append(ref)

        walk(self.tree)
        return found

    def evaluate(self, frame: pd.DataFrame) -> pd.Series:
        """Evaluate row-wise over columns named by Reference.column (NaN where missing)."""

        def ev(node: ast.AST):
            if isinstance(node, ast.BinOp):
                with np.errstate(divide="ignore", invalid="ignore"):
                    return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
            if isinstance(node, ast.UnaryOp):
                value = ev(node.operand)
                return -value if isinstance(node.op, ast.USub) else value
            if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
                return float(node.value)
            ref = _reference(node, self.text)
            if ref.column in frame:
                return frame[ref.column].astype("float64")
            return pd.Series(np.nan, index=frame.index)

        result = ev(self.tree)
        if not isinstance(result, pd.Series):
            result = pd.Series(result, index=frame.index, dtype="float64")
        return result.replace([np.inf, -np.inf], np.nan)


    def evaluate_one(self, values: dict[str, float]) -> float:
        """`evaluate` for one row: `values` maps Reference.column to a number (NaN where missing).

        The same float64 arithmetic as `evaluate` (x/0 and ±inf give NaN), without a DataFrame:
        a return's rules are checked on every write and submit, where pandas' fixed cost dominated.
        """

        def ev(node: ast.AST) -> np.float64:
            if isinstance(node, ast.BinOp):
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
            if isinstance(node, ast.UnaryOp):
                value = ev(node.operand)
                return -value if isinstance(node.op, ast.USub) else value
            if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
                return np.float64(node.value)
            return np.float64(values.get(_reference(node, self.text).column, np.nan))

        result = float(ev(self.tree))
        return result if np.isfinite(result) else float("nan")


def compare_one(left: float, operator: str, right: float) -> bool:
    """`compare` for two numbers (False where either is NaN, as element-wise)."""
    tolerance = 1e-6 * max(1.0, abs(left), abs(right)) if left == left and right == right else float("nan")
    if operator == "<=":
        return left <= right + tolerance
    if operator == "<":
        return left < right
    if operator == ">=":
        return left >= right - tolerance
    if operator == ">":
        return left > right
    if operator == "==":
        return abs(left - right) <= tolerance
    if operator == "!=":
        return abs(left - right) > tolerance
    raise ExpressionError(f"Operator {operator!r} is not one of {', '.join(OPERATORS)}.")


def compare(left: pd.Series, operator: str, right: pd.Series) -> pd.Series:
    """Element-wise comparison; a small tolerance keeps rounding from failing equalities."""
    tolerance = 1e-6 * np.maximum(1.0, np.maximum(left.abs(), right.abs()))
    if operator == "<=":
        return left <= right + tolerance
    if operator == "<":
        return left < right
    if operator == ">=":
        return left >= right - tolerance
    if operator == ">":
        return left > right
    if operator == "==":
        return (left - right).abs() <= tolerance
    if operator == "!=":
        return (left - right).abs() > tolerance
    raise ExpressionError(f"Operator {operator!r} is not one of {', '.join(OPERATORS)}.")
