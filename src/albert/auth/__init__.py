"""Authentication shared by both variants: the managers, and the SSO login they lead to.

``managers``: `AlbertClientCredentials` and `AlbertSSOClient`, configuration.
``sso``: `SSOLogin`, the refresh and access tokens of one `AlbertSSOClient`
and the blocking exchanges that renew them. ``callback``: the one-shot local
server that receives the browser's refresh token. The wire format of the
token endpoints is pure, in `albert.core.auth`; the sessions' token providers
are in ``albert._async.auth`` and its generated twin.
"""

from albert.auth.managers import AlbertClientCredentials, AlbertSSOClient

__all__ = ["AlbertClientCredentials", "AlbertSSOClient"]
