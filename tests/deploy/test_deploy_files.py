"""deploy/: the nginx configurations are valid nginx, the compose file names the services an
operator starts, the systemd units run what the README says."""

from __future__ import annotations

import configparser
import importlib.util
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

_spec = importlib.util.spec_from_file_location("local_nginx", DEPLOY / "local_nginx.py")
assert _spec is not None and _spec.loader is not None
local_nginx = importlib.util.module_from_spec(_spec)
sys.modules["local_nginx"] = local_nginx
_spec.loader.exec_module(local_nginx)

needs_nginx = pytest.mark.skipif(local_nginx.nginx_binary() is None, reason="nginx is not installed")


@needs_nginx
def test_the_debian_site_is_valid_nginx(tmp_path):
    conf = local_nginx.write_prefix(
        tmp_path, upstreams=["127.0.0.1:8001", "127.0.0.1:8002"], listen=18080, static_parent=tmp_path
    )
    result = local_nginx.check(conf, tmp_path)
    assert result.returncode == 0, result.stderr
    site = (tmp_path / "punt.conf").read_text()
    assert "server 127.0.0.1:8001" in site and "server 127.0.0.1:8002" in site


@needs_nginx
def test_the_docker_main_configuration_is_valid_nginx(tmp_path):
    local_nginx.write_prefix(tmp_path, upstreams=["127.0.0.1:8001"], listen=18080, static_parent=tmp_path)
    text = (DEPLOY / "docker" / "nginx.conf").read_text()
    # Only what needs the containers: the service's host name, and paths of a root-owned nginx.
    text = text.replace("server punt:8000", "server 127.0.0.1:8000")
    text = text.replace("pid /tmp/nginx.pid;", f"pid {tmp_path}/nginx.pid;")
    temp_paths = (
        "".join(
            f"    {kind}_temp_path {tmp_path}/tmp/{sub};\n"
            for kind, sub in (("client_body", "body"), ("proxy", "proxy"), ("fastcgi", "fastcgi"), ("uwsgi", "uwsgi"))
        )
        + f"    scgi_temp_path {tmp_path}/tmp/scgi;\n"
    )
    text = text.replace("http {\n", "http {\n" + temp_paths, 1)
    conf = tmp_path / "docker-nginx.conf"
    conf.write_text(text)
    result = local_nginx.check(conf, tmp_path)
    assert result.returncode == 0, result.stderr


def test_locations_proxy_what_the_app_must_see():
    text = (DEPLOY / "nginx" / "punt-locations.conf").read_text()
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    # A location that set any proxy_set_header would inherit none of the server-level ones.
    for block in re.findall(r"location [^{]*\{(.*?)\n\}", code, flags=re.S):
        assert "proxy_set_header" not in block
    for header in ("Host $host", "X-Forwarded-For $proxy_add_x_forwarded_for", "X-Forwarded-Proto $scheme"):
        assert f"proxy_set_header {header};" in code
    assert "proxy_set_header Upgrade $http_upgrade;" in code
    assert "proxy_set_header Connection $connection_upgrade;" in code
    sse = re.search(r"location ~ \^/api/\(projects.*?\n\}", code, flags=re.S)
    assert sse is not None and "proxy_buffering off;" in sse.group(0)
    # Uploads are permission-checked by the app: nginx never serves MEDIA_ROOT.
    assert "/media" not in code and "alias" not in code
    assert re.search(r"location ~ \^/api/\(projects(/\[A-Za-z0-9\]\+)?\)?", code)


def test_sse_location_matches_the_stream_paths():
    text = (DEPLOY / "nginx" / "punt-locations.conf").read_text()
    pattern = re.search(r"location ~ (\^/api/\S+\$) \{", text)
    assert pattern is not None
    regex = re.compile(pattern.group(1))
    for path in ("/api/projects/events", "/api/projects/BLOG/events", "/api/projects/12/events", "/api/users/events"):
        assert regex.match(path), path
    for path in ("/api/projects/BLOG/tickets", "/api/v1/projects/blog/cards", "/api/users/me"):
        assert not regex.match(path), path


def test_compose_file_has_the_services_an_operator_starts():
    compose = yaml.safe_load((DEPLOY / "docker" / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "punt", "worker", "daily", "nginx"}
    assert "migrate" in " ".join(services["migrate"]["command"])
    assert services["punt"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["worker"]["command"] == ["python", "manage.py", "db_worker"]
    env = services["punt"]["environment"]
    assert env["REDIS_URL"].startswith("redis://redis:")
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["PUNT_TRUSTED_PROXY_COUNT"].startswith("${PUNT_TRUSTED_PROXY_COUNT:-1")
    assert services["worker"]["environment"] == env == services["migrate"]["environment"]
    daily = " ".join(services["daily"]["command"])
    assert "manage.py punt_notifications" in daily and "manage.py audit_prune" in daily
    assert services["daily"]["environment"] == env
    build = services["migrate"]["build"]
    assert (DEPLOY / "docker" / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "docker" / "Dockerfile"
    for volume in services["nginx"]["volumes"]:
        source = volume.split(":", 1)[0]
        if source.startswith("."):
            assert (DEPLOY / "docker" / source).exists(), source


def test_systemd_units_run_daphne_per_port_and_the_worker():
    def unit(name: str) -> configparser.RawConfigParser:
        parser = configparser.RawConfigParser(strict=False)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string((DEPLOY / "systemd" / name).read_text())
        return parser

    web = unit("punt@.service")
    assert "daphne" in web["Service"]["ExecStart"] and "--port %i" in web["Service"]["ExecStart"]
    assert web["Service"]["Restart"] == "always"
    assert web["Service"]["EnvironmentFile"] == "/etc/punt/punt.env"
    worker = unit("punt-worker.service")
    assert worker["Service"]["ExecStart"].endswith("manage.py db_worker")
    # The daily work: both commands, from a timer the target starts (configparser keeps the
    # last of the repeated ExecStart lines: read the file for both).
    daily = (DEPLOY / "systemd" / "punt-daily.service").read_text()
    assert "manage.py punt_notifications\n" in daily and "manage.py audit_prune\n" in daily
    assert unit("punt-daily.service")["Service"]["Type"] == "oneshot"
    timer = unit("punt-daily.timer")
    assert timer["Timer"]["OnCalendar"] and timer["Timer"]["Persistent"] == "true"
    assert "punt-daily.timer" in unit("punt.target")["Unit"]["Wants"]
    env = (DEPLOY / "systemd" / "punt.env.example").read_text()
    assert "PUNT_TRUSTED_PROXY_COUNT=1" in env and "STATIC_ROOT=/srv/punt/static" in env
