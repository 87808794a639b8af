import re
from pathlib import Path

import pytest
from dagster import (
    DagsterInstance,
    EnvVar,
    RunConfig,
    build_asset_context,
    build_op_context,
    materialize,
    materialize_to_memory,
)

from chapter_1.definitions import defs
from chapter_1.resources import (
    API_KEY_ENV_VAR,
    USERNAME_ENV_VAR,
    StockApiResource,
    mask_secret,
    stock_api_from_env,
    stock_api_session,
)
from chapter_1.run_config import NameConfig, RepeatConfig, configured_name, repeat_job, repeat_word
from tests.support.guides import chapter_1_guide

SECRET = "sk-live-0123456789abcdef"
REPO_ROOT = Path(__file__).resolve().parents[2]


def test_mask_secret_keeps_only_the_last_characters():
    assert mask_secret(SECRET) == "*" * (len(SECRET) - 4) + "cdef"
    assert mask_secret("abc") == "***"


def test_resource_gets_credentials_from_environment_and_never_logs_the_secret(monkeypatch):
    monkeypatch.setenv(USERNAME_ENV_VAR, "workshop-user")
    monkeypatch.setenv(API_KEY_ENV_VAR, SECRET)
    instance = DagsterInstance.ephemeral()
    # The same EnvVar-based resource object that Definitions registers.
    result = materialize([stock_api_session], resources={"stock_api": stock_api_from_env}, instance=instance)
    assert result.success
    session = result.output_for_node("api__stock_api_session")
    assert session == {
        "username": "workshop-user",
        "api_key": mask_secret(SECRET),
        "base_url": "https://stock-api.example.com/v1",
    }
    messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any(mask_secret(SECRET) in message for message in messages)
    assert not any(SECRET in message for message in messages)
    # The run's stored config only mentions the environment variable, not its value.
    run = instance.get_run_by_id(result.run_id)
    assert SECRET not in str(run.run_config)


def test_definitions_register_the_env_var_resource():
    resource = defs.resources["stock_api"]
    assert isinstance(resource, StockApiResource)
    assert resource is stock_api_from_env
    assert stock_api_from_env.api_key == EnvVar(API_KEY_ENV_VAR)


def test_configured_name_asset_returns_the_configured_name():
    result = materialize_to_memory(
        [configured_name], run_config=RunConfig({"configured_name": NameConfig(name="Ada Lovelace")})
    )
    assert result.success
    assert result.output_for_node("configured_name") == "Ada Lovelace"
    # Direct invocation accepts the config object too.
    assert configured_name(build_asset_context(), NameConfig(name="Grace")) == "Grace"
    assert configured_name(build_asset_context(), NameConfig()) == "Dagster"


def test_op_defaults_and_job_default_config():
    assert repeat_word(build_op_context(), RepeatConfig()) == "dagster dagster dagster"
    # The job's own default run config overrides the op's defaults.
    assert repeat_job.execute_in_process().output_for_node("repeat_word") == "hello hello"


def test_job_run_config_given_at_launch():
    config = RunConfig(ops={"repeat_word": RepeatConfig(word="bonjour", times=3)})
    result = repeat_job.execute_in_process(run_config=config)
    assert result.output_for_node("repeat_word") == "bonjour bonjour bonjour"


def test_asset_with_a_stand_in_resource():
    # A literal resource in place of the EnvVar one of Definitions: no environment variable needed.
    stand_in = StockApiResource(username="ada", api_key="sk-test-1234abcd")
    result = materialize([stock_api_session], resources={"stock_api": stand_in})
    assert result.success
    assert result.output_for_node("api__stock_api_session")["api_key"] == "************abcd"


def test_resource_without_its_variables_fails_naming_them(monkeypatch):
    monkeypatch.delenv(USERNAME_ENV_VAR, raising=False)
    monkeypatch.delenv(API_KEY_ENV_VAR, raising=False)
    with pytest.raises(Exception, match=f'environment variable "{USERNAME_ENV_VAR}" which is not set') as caught:
        materialize([stock_api_session], resources={"stock_api": stock_api_from_env})
    # The guide quotes the same words.
    quoted = re.search(r"`(You have attempted to fetch.*?)`", chapter_1_guide(), re.S)
    assert " ".join(quoted.group(1).split()) in " ".join(str(caught.value).split())


def test_env_example_gives_the_resource_its_variables():
    """make start-local exports .env.example's values: the guide says which, and what the log shows."""
    settings = dict(re.findall(r"^(STOCK_API_\w+)=(.*)$", (REPO_ROOT / ".env.example").read_text(), re.M))
    assert settings == {USERNAME_ENV_VAR: "workshop", API_KEY_ENV_VAR: "change-me"}
    readme = chapter_1_guide()
    assert "`STOCK_API_USERNAME=workshop`, `STOCK_API_KEY=change-me`" in readme
    assert f"using API key {mask_secret('change-me')}" in readme
