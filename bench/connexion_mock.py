"""The contract under `connexion run --mock=all`'s engine (AsyncApp + MockResolver), without its
reloader and access log, and with a token check that admits any bearer token: the baseline of
what connexion's own mock mode serves."""

from __future__ import annotations

import functools
from typing import Any

from connexion import AsyncApp
from connexion.mock import MockResolver
from connexion.security import OAuthSecurityHandler

from jobagent_mock.foundations import spec


class AnyToken(OAuthSecurityHandler):
    def get_tokeninfo_func(self, _security_definition: dict[str, Any]) -> Any:
        return lambda _token: {"sub": "bench", "scope": list(_SCOPES)}


_SCOPES = spec.oauth2_scheme()["flows"]["clientCredentials"]["scopes"]


def create() -> AsyncApp:
    app = AsyncApp(
        __name__,
        specification_dir=spec.SPEC_DIR,
        security_map={"oauth2": functools.partial(AnyToken)},
    )
    app.add_api(spec.BUSINESS, resolver=MockResolver(mock_all=True))
    return app
