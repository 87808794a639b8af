"""Run configuration: values chosen when a run is launched, validated against a ``Config`` class.

A ``Config`` subclass is a typed schema: the Launchpad shows its fields, fills in the defaults and
rejects a wrong type before the run starts. In Python, the same values are passed as ``RunConfig``.
"""

from dagster import AssetExecutionContext, Config, OpExecutionContext, RunConfig, asset, job, op
from pydantic import Field


class NameConfig(Config):
    name: str = Field(default="Dagster", description="The name the asset returns.")


@asset(group_name="run_config")
def configured_name(context: AssetExecutionContext, config: NameConfig) -> str:
    """Returns the name given in the run config (``"Dagster"`` when none is given)."""
    context.log.info(f"configured name: {config.name}")
    return config.name


class RepeatConfig(Config):
    word: str = "dagster"
    times: int = 3


@op
def repeat_word(context: OpExecutionContext, config: RepeatConfig) -> str:
    sentence = " ".join([config.word] * config.times)
    context.log.info(sentence)
    return sentence


# A job can carry default run config. Here it overrides one field of the op's own defaults;
# anything given at launch time (Launchpad, RunConfig in Python) takes precedence again.
@job(config=RunConfig(ops={"repeat_word": RepeatConfig(word="hello", times=2)}))
def repeat_job():
    repeat_word()
