"""The calculator's arithmetic, kept apart from the MCP surface (``mcp.tools.calculator.toolset``).

Numbers behave as in the seed (JavaScript doubles, printed the way JavaScript prints them),
except that nothing here ever answers Infinity or NaN: a result that does not fit a finite
double is refused with a ``ToolError`` the model can read.
"""

from __future__ import annotations

import math
from decimal import Decimal

from mcp.errors import ToolError

BASIC_OPERATIONS = ("add", "subtract", "multiply", "divide")
ADVANCED_OPERATIONS = ("factorial", "power", "sqrt", "log", "sin", "cos", "tan")
# 170! is the largest factorial a double holds; 171! is Infinity.
FACTORIAL_MAX = 170
# Integral doubles up to this size are shown (and sent as JSON) without a fraction.
_EXACT_INTEGER = 2**53

CONSTANTS = {
    "pi": math.pi,
    "e": math.e,
    "sqrt2": math.sqrt(2),
    "ln2": math.log(2),
    "ln10": math.log(10),
}

FORMULAS = {
    "quadratic": {"formula": "ax² + bx + c = 0", "solution": "x = (-b ± √(b²-4ac)) / 2a"},
    "pythagorean": {"formula": "a² + b² = c²", "description": "For right triangles"},
    "compound_interest": {
        "formula": "A = P(1 + r/n)^(nt)",
        "variables": {
            "A": "Final amount",
            "P": "Principal",
            "r": "Annual interest rate",
            "n": "Compounding frequency",
            "t": "Time in years",
        },
    },
}


def plain(value: float) -> int | float:
    """A double as JSON should carry it: integral values without a fraction (5, not 5.0)."""
    number = float(value)
    if number.is_integer() and abs(number) <= _EXACT_INTEGER:
        return int(number)
    return number


def js_number(value: float) -> str:
    """``String(value)`` as JavaScript writes it (shortest round-trip digits)."""
    value = plain(value)
    if isinstance(value, int):
        return str(value)
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    exponent += len(digit_tuple) - len(digits)
    k = len(digits)
    n = k + exponent  # the decimal point sits after n digits
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        body = "0." + "0" * -n + digits
    else:
        mantissa = digits[0] + (f".{digits[1:]}" if k > 1 else "")
        body = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return f"-{body}" if sign else body


def finite(value: float, what: str) -> int | float:
    if not math.isfinite(value):
        raise ToolError(f"{what} is not a finite number (it overflows a double); nothing was stored")
    return plain(value)


def basic(op: str, a: float, b: float) -> int | float:
    """``a op b`` for the four operations of ``calculate``."""
    a, b = float(a), float(b)
    if op == "add":
        result = a + b
    elif op == "subtract":
        result = a - b
    elif op == "multiply":
        result = a * b
    elif op == "divide":
        if b == 0:
            raise ToolError("Division by zero is not allowed")
        result = a / b
    else:  # the input schema admits only the four names
        raise ToolError(f"Unknown operation {op!r}")
    return finite(result, f"{js_number(a)} {op} {js_number(b)}")


def advanced(operation: str, value: float, base: float | None) -> int | float:
    """One ``advanced_calculate`` operation; domain errors are ``ToolError``s.

    ``power`` is ``base ** value`` (base raised to ``value``), as the seed computes it.
    ``log`` is the natural logarithm, or the logarithm in ``base`` when one is given.
    Trigonometric functions take radians.
    """
    value = float(value)
    try:
        if operation == "factorial":
            if value < 0 or not value.is_integer():
                raise ToolError("Factorial requires non-negative integer")
            if value > FACTORIAL_MAX:
                raise ToolError(
                    f"Factorial is limited to integers from 0 to {FACTORIAL_MAX} "
                    f"({FACTORIAL_MAX + 1}! and above overflow a double)"
                )
            result = float(math.factorial(int(value)))
        elif operation == "power":
            if base is None:
                raise ToolError("Power operation requires base parameter")
            result = math.pow(float(base), value)
        elif operation == "sqrt":
            if value < 0:
                raise ToolError("Square root of negative number")
            result = math.sqrt(value)
        elif operation == "log":
            if value <= 0:
                raise ToolError("Logarithm requires positive number")
            if base is None:
                result = math.log(value)
            elif base <= 0 or base == 1:
                raise ToolError("Logarithm base must be positive and not 1")
            else:
                result = math.log(value) / math.log(float(base))
        elif operation in ("sin", "cos", "tan"):
            result = getattr(math, operation)(value)
        else:  # the input schema admits only the names above
            raise ToolError(f"Unknown operation {operation!r}")
    except (ValueError, ZeroDivisionError):
        raise ToolError(f"{operation} is not defined for these inputs (math domain error)") from None
    except OverflowError:
        raise ToolError(f"{operation} overflows a double for these inputs; nothing was stored") from None
    return finite(result, operation)
