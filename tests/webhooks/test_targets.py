"""In production, endpoints are https on public addresses only (no SSRF into the app's own network)."""
from __future__ import annotations

import pytest

from lms.webhooks.targets import TargetError, check_url


@pytest.mark.parametrize("url", ["http://wfm.example/hooks", "https://127.0.0.1/hooks", "https://localhost/h",
                                 "https://169.254.169.254/latest/meta-data", "https://10.1.2.3/h", "https://[::1]/h",
                                 "https://user:pw@wfm.example/h", "ftp://wfm.example/h"])
def test_production_refuses_plain_http_and_private_targets(app, url):
    app.config["ENV_NAME"] = "production"
    with pytest.raises(TargetError):
        check_url(url)


def test_private_targets_can_be_allowed_and_development_may_use_loopback_http(app):
    app.config.update(ENV_NAME="production", WEBHOOKS_ALLOW_PRIVATE_TARGETS=True)
    assert check_url(" https://10.1.2.3/h ") == "https://10.1.2.3/h"
    app.config.update(ENV_NAME="development", WEBHOOKS_ALLOW_PRIVATE_TARGETS=False)
    assert check_url("http://127.0.0.1:8000/h") == "http://127.0.0.1:8000/h"
    with pytest.raises(TargetError):
        check_url("http://192.168.1.10/h")
