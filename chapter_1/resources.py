"""Resources: configurable clients (APIs, databases...) injected into assets by parameter name.

The asset only declares ``stock_api: StockApiResource``; which credentials it gets is decided in
``Definitions`` (or a test). ``EnvVar`` makes Dagster read the value from the environment when the
run starts, so the secret is never written in code nor shown in the UI's resource config.
"""

from dagster import AssetExecutionContext, ConfigurableResource, EnvVar, asset
from pydantic import Field

USERNAME_ENV_VAR = "STOCK_API_USERNAME"
API_KEY_ENV_VAR = "STOCK_API_KEY"


def mask_secret(secret: str, visible: int = 4) -> str:
    """``'s3cr3t-abcd'`` -> ``'*******abcd'``: enough to tell keys apart, useless to an attacker."""
    if len(secret) <= visible:
        return "*" * len(secret)
    return "*" * (len(secret) - visible) + secret[-visible:]


class StockApiResource(ConfigurableResource):
    """A (pretend) stock-market API client: holds credentials and builds authenticated requests."""

    username: str
    api_key: str = Field(description="Secret: pass it as EnvVar, never as a literal.")
    base_url: str = "https://stock-api.example.com/v1"

    def masked_api_key(self) -> str:
        return mask_secret(self.api_key)

    def auth_headers(self) -> dict[str, str]:
        # What a real client would send; the workshop never calls the network.
        return {"X-User": self.username, "Authorization": f"Bearer {self.api_key}"}


# The instance registered in Definitions: both values come from the environment at run time.
stock_api_from_env = StockApiResource(
    username=EnvVar(USERNAME_ENV_VAR),
    api_key=EnvVar(API_KEY_ENV_VAR),
)


@asset(key_prefix="api", group_name="resources", kinds={"python"})
def stock_api_session(context: AssetExecutionContext, stock_api: StockApiResource) -> dict[str, str]:
    """Describes the session the resource would open. Only the masked key is logged or returned."""
    context.log.info(f"connecting to {stock_api.base_url} as {stock_api.username}")
    context.log.info(f"using API key {stock_api.masked_api_key()}")
    return {
        "username": stock_api.username,
        "api_key": stock_api.masked_api_key(),
        "base_url": stock_api.base_url,
    }
