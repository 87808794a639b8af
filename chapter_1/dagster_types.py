"""Ins, Outs and Dagster types: checks that run on every value passed between ops.

Python type hints are not enforced at runtime. A ``DagsterType`` is: Dagster calls its check
function on each output (and input) it guards, and fails the step when the check fails. The result
of the check (and its description) is shown in the run's event log.
"""

import math
from numbers import Real

from dagster import Config, DagsterType, In, OpExecutionContext, Out, TypeCheck, job, op


def _is_positive_number(_context, value) -> TypeCheck:
    # bool is a subclass of int: True would otherwise pass as the number 1.
    ok = isinstance(value, Real) and not isinstance(value, bool) and value > 0
    return TypeCheck(success=ok, description=f"{value!r} is {'' if ok else 'not '}a number > 0")


PositiveNumber = DagsterType(
    name="PositiveNumber",
    type_check_fn=_is_positive_number,
    description="An int or float strictly greater than zero.",
)


class NumberConfig(Config):
    value: float = 16.0


@op(out=Out(PositiveNumber, description="The configured number, checked to be > 0."))
def emit_number(config: NumberConfig) -> float:
    return config.value


@op(out=Out(PositiveNumber, description="Always fails its check: the value is negative."))
def emit_negative_number() -> float:
    return -5.0


@op(ins={"number": In(PositiveNumber)}, out=Out(float))
def square_root(context: OpExecutionContext, number: float) -> float:
    # The In check already guarantees number > 0, so no guard is needed here.
    root = math.sqrt(number)
    context.log.info(f"sqrt({number}) = {root}")
    return root


@job(description="Happy path: 16 passes the PositiveNumber checks and its square root is 4.")
def positive_number_job():
    square_root(emit_number())


@job
def number_validation_job():
    """Fails on purpose, to show what a failed type check looks like.

    ``emit_negative_number`` returns -5.0 through an ``Out(PositiveNumber)``, so its output check
    fails and the step errors before ``square_root`` runs. In the UI the run is marked failed with a
    "Type check failed" step event. ``execute_in_process`` raises
    ``dagster.DagsterTypeCheckDidNotPass``:
    ``Type check failed for step output "result" - expected type "PositiveNumber". Description:
    -5.0 is not a number > 0``.
    """
    square_root(emit_negative_number())
