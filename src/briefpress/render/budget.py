"""The budget of a template: what one render may cost in operations, output and time.

Templates come from the brief, so from many hands. Jinja's sandbox keeps them from Python's internals, but
not from running without end: ``{{ 'x' * 10**9 }}`` asks for a gigabyte, and two loops over ``range(100000)``
for ten billion steps. Each render of a section (or of a document template) gets a ``Budget``:

- ``OPERATIONS`` steps: each loop step, call, attribute or item lookup and operator counts one;
- ``OUTPUT`` characters: what it prints, and the literal text of each loop step and macro call;
- ``SECONDS`` of wall-clock time, checked at every step;

and no operator, filter or printed value may make a value larger than ``OUTPUT``, checked before it is made.
Everything goes through Jinja's documented hooks: the sandbox's ``call``, ``getattr``, ``getitem`` and
``call_binop``, an extension's ``filter_stream`` (a charge at the start of every loop step and macro call), the
environment's ``finalize`` and ``code_generator_class`` (``~`` joins through the budget).
"""

from __future__ import annotations

import functools
import re
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import jinja2
import jinja2.ext
import jinja2.sandbox
from jinja2.compiler import CodeGenerator, Frame
from jinja2.lexer import Token
from jinja2.nodes import Concat

OPERATIONS = 1_000_000
OUTPUT = 16_000_000
SECONDS = 10.0
#: The largest width a call may ask for (``center``, ``indent``, ``'%*s'``, ``'{:>N}'``, ``zfill``...).
WIDTH = 100_000
#: The largest integer ``**`` may make, in bits.
BITS = 100_000
_WIDE_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
_WIDE_FILTERS = frozenset({"center", "indent", "format", "wordwrap", "truncate", "batch", "slice"})
_FORMAT_WIDTH = re.compile(r"\d{6,}")
_STEP = "_budget_step"
#: Changes whenever what templates compile to changes here: part of the key of compiled templates kept.
CODE_VERSION = "budget-1"


class BudgetExceeded(jinja2.TemplateRuntimeError):
    """A template used up its budget; the message names the limit."""


class Budget:
    """What is left of one render's operations, output and time."""

    def __init__(self) -> None:
        self.start()

    def start(self) -> None:
        """Begin a new render with the whole budget."""
        self.operations = 0
        self.output = 0
        self.deadline = time.monotonic() + SECONDS
        self._weights: dict[int, tuple[Any, int]] = {}

    def step(self, output: int = 0) -> None:
        """Count one operation that adds ``output`` characters."""
        self.operations += 1
        self.output += output
        if self.operations > OPERATIONS:
            raise BudgetExceeded(f"the template budget of {OPERATIONS:,} operations (loop steps, calls, lookups) "
                                 "is used up")
        if self.output > OUTPUT:
            raise BudgetExceeded(f"the template budget of {OUTPUT:,} characters of output is used up")
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(f"the template budget of {SECONDS:g} seconds is used up")

    def size(self, size: int, what: str) -> None:
        """Refuse to make a value of ``size`` characters (or items) if it is over ``OUTPUT``."""
        if size > OUTPUT:
            raise BudgetExceeded(f"{what} would make a value of {size:,} characters or items, over the template "
                                 f"budget's {OUTPUT:,}")

    def weight(self, value: Any) -> int:
        """The characters and items in ``value``, counting what it holds as often as it holds it; each object is
        weighed once per render (a list repeated in a list costs no time to weigh again)."""
        if isinstance(value, str):
            return len(value)
        if not isinstance(value, (list, tuple, dict, set, frozenset)):
            return 1
        known = self._weights.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        total = len(items)
        for item in items:
            total += self.weight(item)
            if total > OUTPUT:  # no need to weigh the rest
                break
        self._weights[id(value)] = (value, total)  # kept alive, so that its id is not reused meanwhile
        return total


def _width(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > WIDTH


class BudgetExtension(jinja2.ext.Extension):
    """Charges the budget at the start of every loop step and macro call, with the literal text of its body:
    ``{{ _budget_step(N) }}`` (which prints nothing) put first in each ``for``, ``macro`` and ``call`` body."""

    def filter_stream(self, stream: jinja2.lexer.TokenStream) -> Iterable[Token]:
        tokens = list(stream)
        literal = [0]  # characters of literal text before each token
        for token in tokens:
            literal.append(literal[-1] + (len(token.value) if token.type == "data" else 0))
        opened: dict[str, list[int]] = {"for": [], "macro": [], "call": []}
        body_length: dict[int, int] = {}  # index of a body's opening block_end -> its literal text
        start = None
        for index, token in enumerate(tokens):
            if token.type == "block_begin":
                start = index
            elif token.type == "name" and start == index - 1:
                if token.value in opened:
                    opened[token.value].append(-1)
                elif token.value.startswith("end") and opened.get(token.value[3:]):
                    body = opened[token.value[3:]].pop()
                    body_length[body] = literal[index] - literal[body]
            elif token.type == "block_end" and start is not None:
                for bodies in opened.values():
                    if bodies and bodies[-1] == -1:
                        bodies[-1] = index
                start = None
        for index, token in enumerate(tokens):
            yield token
            if index in body_length:
                line = token.lineno
                yield from (Token(line, "variable_begin", "{{"), Token(line, "name", _STEP),
                            Token(line, "lparen", "("), Token(line, "integer", body_length[index]),
                            Token(line, "rparen", ")"), Token(line, "variable_end", "}}"))


class BudgetedCode(CodeGenerator):
    """Jinja's code generator, with ``~`` joined through the budget (``BudgetedSandbox.budget_join``)."""

    def visit_Concat(self, node: Concat, frame: Frame) -> None:
        # As Jinja writes it (without folding constants), the join function handed to the environment.
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.budget_join({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class BudgetedSandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with every render held to ``budget`` (``Budget.start`` begins one)."""

    code_generator_class = BudgetedCode
    intercepted_binops = frozenset({"*", "+", "**", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(extensions=[BudgetExtension], finalize=self._printed, **options)
        self.budget = Budget()
        self.globals[_STEP] = self._step
        del self.globals["lipsum"]  # placeholder text, of any length asked for

    def _step(self, output: int) -> str:
        self.budget.step(output)
        return ""

    def _printed(self, value: Any) -> Any:
        self.budget.step(self.budget.weight(value))
        return value

    def budget_filters(self) -> None:
        """Hold every filter to the budget: one operation, and no input or width over its limits."""
        self.filters = {name: self._budgeted_filter(name, f) for name, f in self.filters.items()}

    def _budgeted_filter(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def budgeted(*args: Any, **kwargs: Any) -> Any:
            self.budget.step()
            for arg in args:
                if not isinstance(arg, (jinja2.runtime.Context, jinja2.Environment, jinja2.nodes.EvalContext)):
                    self.budget.size(self.budget.weight(arg), f"the filter '{name}'")
            if name in _WIDE_FILTERS:
                self._check_widths(name, args[1:], kwargs)
            return function(*args, **kwargs)
        return budgeted

    def _check_widths(self, what: str, args: Iterable[Any], kwargs: dict[str, Any]) -> None:
        for arg in (*args, *kwargs.values()):
            if _width(arg):
                raise BudgetExceeded(f"'{what}' was given {arg:,}, over the template budget's width of {WIDTH:,}")
            if isinstance(arg, str) and _FORMAT_WIDTH.search(arg):
                raise BudgetExceeded(f"'{what}' was given a width over the template budget's {WIDTH:,}")

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any,  # noqa: N805 (as Jinja's)
             **kwargs: Any) -> Any:
        __self.budget.step()
        target = getattr(__obj, "__wrapped__", __obj)  # the sandbox wraps str.format
        owner = getattr(target, "__self__", None)
        name = getattr(target, "__name__", "")
        if isinstance(owner, str) and (name in _WIDE_METHODS or name.startswith("format")):
            __self._check_widths(name, (owner if name.startswith("format") else "", *args), kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.budget.step()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        self.budget.step()
        return super().getitem(obj, argument)

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        self.budget.step()
        weight = self.budget.weight
        if operator == "*":
            for value, times in ((left, right), (right, left)):
                if isinstance(value, (str, list, tuple)) and isinstance(times, int):
                    self.budget.size(weight(value) * max(times, 0), "'*'")
        elif operator == "+" and isinstance(left, (str, list, tuple)):
            self.budget.size(weight(left) + weight(right), "'+'")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
            if abs(left) > 1 and right * abs(left).bit_length() > BITS:
                raise BudgetExceeded(f"'**' would make a number of over {BITS:,} bits")
        elif operator == "%" and isinstance(left, str):
            self._check_widths("%", (left, *(right if isinstance(right, tuple) else (right,))), {})
        return super().call_binop(context, operator, left, right)

    def budget_join(self, join: Callable[[Iterable[Any]], str], parts: tuple[Any, ...]) -> str:
        """Join the parts of a ``~`` expression, if the result keeps within the budget."""
        self.budget.step()
        self.budget.size(sum(self.budget.weight(part) for part in parts), "'~'")
        return join(parts)


def origin(exc: BaseException) -> tuple[Path | None, int | None]:
    """The template file and line a render was at when it raised ``exc`` (Jinja puts the template's lines in
    the traceback), or ``(None, None)``."""
    found: tuple[Path | None, int | None] = (None, None)
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith(".j2"):
            found = (Path(name), tb.tb_lineno)
        tb = tb.tb_next
    return found


def render(template: jinja2.Template, **context: Any) -> str:
    """Render ``template`` with a new budget (a template rendered inside it, as a chart, shares that one)."""
    environment = template.environment
    if isinstance(environment, BudgetedSandbox):
        environment.budget.start()
    return template.render(**context)
