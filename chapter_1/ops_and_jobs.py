"""Ops, a graph and a job: the smallest unit of work, how units are wired, and what you run.

An op is a plain Python function Dagster can execute, log and retry. A graph only *wires* ops
(no code runs in its body: it builds the dependency structure). A job is a graph made executable,
with its resources and config bound to it.
"""

from dagster import Config, OpExecutionContext, graph, op


class AddNumbersConfig(Config):
    # Defaults let the job run from the UI's Launchpad without typing any config.
    a: int = 1
    b: int = 2


@op
def add_numbers(context: OpExecutionContext, config: AddNumbersConfig) -> int:
    """Add the two configured numbers."""
    total = config.a + config.b
    context.log.info(f"{config.a} + {config.b} = {total}")
    return total


@op
def multiply_by_two(context: OpExecutionContext, number: int) -> int:
    """Double the upstream op's output: the input arrives through the graph's wiring."""
    doubled = number * 2
    context.log.info(f"{number} * 2 = {doubled}")
    return doubled


@graph
def math_operations() -> int:
    # Calling ops here does not compute anything: it records that multiply_by_two
    # consumes add_numbers' output. Returning it makes it the graph's output.
    return multiply_by_two(add_numbers())


# One graph can back several jobs (e.g. different resources per environment); here just one.
math_job = math_operations.to_job(
    name="math_job",
    description="Adds two configured numbers, then doubles the sum.",
)
