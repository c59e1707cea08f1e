"""What the settings take from the proxy in front (deploy/nginx): https from X-Forwarded-Proto,
the host from X-Forwarded-Host only when asked, the client's address from X-Forwarded-For
behind PUNT_TRUSTED_PROXY_COUNT proxies; STATIC_ROOT where nginx serves it."""

from __future__ import annotations

from pathlib import Path

from django.test import RequestFactory

from punt.api.ratelimit import client_ip
from tests.config.test_settings import run_manage

SHOW = (
    "from django.conf import settings as s; "
    "print(s.SECURE_PROXY_SSL_HEADER, s.USE_X_FORWARDED_HOST, s.STATIC_ROOT, s.PUNT_TRUSTED_PROXY_COUNT)"
)
PRODUCTION = {"DEBUG": "0", "SECRET_KEY": "x7" * 30 + "-production-secret", "ALLOWED_HOSTS": "punt.example.com"}


def shown(**env: str) -> list[str]:
    result = run_manage("shell", "-c", SHOW, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1].replace("('HTTP_X_FORWARDED_PROTO', 'https')", "proto").split()


def test_production_defaults_trust_forwarded_proto_only(tmp_path):
    proto, forwarded_host, static_root, hops = shown(**PRODUCTION)
    assert (proto, forwarded_host, hops) == ("proto", "False", "0")
    assert Path(static_root).name == "staticfiles"


def test_the_deploy_environment_is_read(tmp_path):
    env = {**PRODUCTION, "USE_X_FORWARDED_HOST": "1", "STATIC_ROOT": str(tmp_path), "PUNT_TRUSTED_PROXY_COUNT": "1"}
    proto, forwarded_host, static_root, hops = shown(**env)
    assert (proto, forwarded_host, Path(static_root), hops) == ("proto", "True", tmp_path, "1")


def test_bad_values_refuse_to_start():
    result = run_manage("check", **PRODUCTION, USE_X_FORWARDED_HOST="maybe")
    assert result.returncode != 0 and "USE_X_FORWARDED_HOST" in result.stderr


def test_a_request_through_nginx(settings):
    # What deploy/nginx sends: Host passed through, the scheme, and the client appended to
    # X-Forwarded-For (whatever the client put there itself stays on the left).
    settings.PUNT_TRUSTED_PROXY_COUNT = 1
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = ["punt.example.com"]
    request = RequestFactory().get(
        "/",
        HTTP_HOST="punt.example.com",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7",
        HTTP_X_FORWARDED_HOST="evil.example.com",
        REMOTE_ADDR="127.0.0.1",
    )
    assert request.is_secure()
    assert request.get_host() == "punt.example.com"  # X-Forwarded-Host ignored unless asked
    assert client_ip(request) == "203.0.113.7"


def test_forwarded_host_when_asked(settings):
    settings.USE_X_FORWARDED_HOST = True
    settings.ALLOWED_HOSTS = ["punt.example.com"]
    request = RequestFactory().get("/", HTTP_HOST="punt-app:8000", HTTP_X_FORWARDED_HOST="punt.example.com")
    assert request.get_host() == "punt.example.com"
