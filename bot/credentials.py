"""Whether the Alibaba Cloud SDK's own default credential chain finds credentials, and where.

The chain (alibabacloud_credentials' DefaultCredentialsProvider) reads its variables once, when it is imported: import
this module after load_settings() has read `.env`.
"""

from __future__ import annotations

import re

from alibabacloud_credentials.client import Client as CredentialClient
from alibabacloud_credentials.exceptions import CredentialException

# The providers of the default chain, as an operator would look for each source
SOURCES = {
    "EnvironmentVariableCredentialsProvider": "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "OIDCRoleArnCredentialsProvider": "the OIDC (RRSA) role in ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN "
                                      "and ALIBABA_CLOUD_OIDC_TOKEN_FILE",
    "CLIProfileCredentialsProvider": "~/.aliyun/config.json",
    "ProfileCredentialsProvider": "~/.alibabacloud/credentials.ini (or ALIBABA_CLOUD_CREDENTIALS_FILE)",
    "EcsRamRoleCredentialsProvider": "the ECS RAM role (instance metadata service)",
    "URLCredentialsProvider": "ALIBABA_CLOUD_CREDENTIALS_URI",
}


class NoCredentials(Exception):
    """The default chain found nothing; the message names each source it tried."""

    def __init__(self, tried: list[str]) -> None:
        super().__init__("no Alibaba Cloud credentials: tried " + "; ".join(tried))
        self.tried = tried


def default_chain() -> CredentialClient:
    """The SDK's default credential chain, as the CCC client uses it when given no AccessKey."""
    return CredentialClient()


def credential_source(credentials: CredentialClient) -> str:
    """Where `credentials` finds its credentials, e.g. 'default/env' or 'default/ecs_ram_role'; NoCredentials if nowhere.

    This fetches them (the ECS RAM role through the metadata service, which the SDK gives 1 s a call), so the first
    CCC call finds them ready."""
    try:
        return credentials.get_credential().provider_name or "default"
    except CredentialException as e:
        # The chain's message lists what each provider said, each after its class name
        tried = [SOURCES.get(name, name) for name in re.findall(r"[\"'](\w+CredentialsProvider): ", str(e))]
        raise NoCredentials(tried or [str(e)]) from None
