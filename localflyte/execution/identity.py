"""IdentityService and AuthMetadataService answers for an insecure local control plane.

flytekit's insecure client never needs these, but tools that probe them (``flytectl``, the console,
``pyflyte`` with a PKCE config) must get a well-formed answer, not UNIMPLEMENTED or UNKNOWN.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flyteidl.service import auth_pb2, identity_pb2

from localflyte.context import AppContext

Handler = Callable[[Any], Any]
LOCAL_USER = "localflyte"


class Identity:
    def __init__(self, context: AppContext) -> None:
        self._base = f"http://{context.settings.platform_url}"

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "IdentityService.UserInfo": self.user_info,
            "AuthMetadataService.GetPublicClientConfig": self.public_client_config,
            "AuthMetadataService.GetOAuth2Metadata": self.oauth2_metadata,
        }

    def user_info(self, _request: identity_pb2.UserInfoRequest) -> Any:
        return identity_pb2.UserInfoResponse(subject=LOCAL_USER, name=LOCAL_USER, preferred_username=LOCAL_USER)

    def public_client_config(self, _request: auth_pb2.PublicClientAuthConfigRequest) -> Any:
        """flyteadmin's defaults for its own public client (``auth/config/config.go``)."""
        return auth_pb2.PublicClientAuthConfigResponse(
            client_id="flytectl",
            redirect_uri="http://localhost:53593/callback",
            scopes=["offline", "all"],
            authorization_metadata_key="flyte-authorization",
        )

    def oauth2_metadata(self, _request: auth_pb2.OAuth2MetadataRequest) -> Any:
        return auth_pb2.OAuth2MetadataResponse(
            issuer=self._base,
            authorization_endpoint=f"{self._base}/oauth2/authorize",
            token_endpoint=f"{self._base}/oauth2/token",
            jwks_uri=f"{self._base}/oauth2/jwks",
            response_types_supported=["code", "token", "code token"],
            scopes_supported=["all", "offline", "access_token"],
            token_endpoint_auth_methods_supported=["client_secret_basic"],
            code_challenge_methods_supported=["S256"],
            grant_types_supported=["client_credentials", "refresh_token", "authorization_code"],
        )
