"""Run deploy/nginx's configuration without root and without touching /etc/nginx.

    python deploy/local_nginx.py --listen 8080 --upstream 127.0.0.1:8001 --upstream 127.0.0.1:8002 \
        --static-root staticfiles            # serves until Ctrl-C; -t only checks the configuration

Writes a prefix folder (a main nginx.conf, deploy/nginx/punt.conf with its upstream, listen port
and static root replaced, the locations snippet, mime.types) and starts `nginx -c ... -p ...`
in the foreground. The tests check the configuration with it and bench/cluster_check.py puts
it in front of several daphne processes.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent
NGINX_DIR = DEPLOY / "nginx"
SYSTEM_MIME_TYPES = Path("/etc/nginx/mime.types")
MINIMAL_MIME_TYPES = "types { text/html html; text/css css; application/javascript js; image/png png; }\n"

# The process-wide directives a packaged nginx.conf has, with every path inside the prefix.
MAIN_CONF = """\
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
daemon off;

events {{
    worker_connections {connections};
}}

http {{
    include mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
{body}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def site_conf(*, upstreams: list[str], listen: int, static_parent: Path) -> str:
    """deploy/nginx/punt.conf with these upstream servers, port and static root."""
    text = (NGINX_DIR / "punt.conf").read_text()
    servers = "".join(f"    server {address} max_fails=1 fail_timeout=3s;\n" for address in upstreams)
    text, count = re.subn(r"(    server 127\.0\.0\.1:\d+ [^\n]*\n)+", servers, text)
    assert count == 1, "punt.conf's upstream block changed shape"
    text = re.sub(r"listen 80;\n\s*listen \[::\]:80;", f"listen 127.0.0.1:{listen};", text)
    return text.replace("root /srv/punt;", f"root {static_parent};")


def write_prefix(
    prefix: Path,
    *,
    upstreams: list[str],
    listen: int,
    static_parent: Path,
    workers: int = 1,
    connections: int = 4096,
) -> Path:
    """Fill `prefix` and return its main configuration file."""
    (prefix / "snippets").mkdir(parents=True, exist_ok=True)
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "tmp" / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(NGINX_DIR / "punt-locations.conf", prefix / "snippets" / "punt-locations.conf")
    mime = SYSTEM_MIME_TYPES.read_text() if SYSTEM_MIME_TYPES.exists() else MINIMAL_MIME_TYPES
    (prefix / "mime.types").write_text(mime)
    (prefix / "punt.conf").write_text(site_conf(upstreams=upstreams, listen=listen, static_parent=static_parent))
    conf = prefix / "nginx.conf"
    body = "    include punt.conf;"
    conf.write_text(MAIN_CONF.format(prefix=prefix, workers=workers, connections=connections, body=body))
    return conf


def check(conf: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on the configuration (never the system's)."""
    binary = nginx_binary()
    if binary is None:
        raise FileNotFoundError("nginx is not installed")
    return subprocess.run(
        [binary, "-t", "-q", "-c", str(conf), "-p", str(prefix)], capture_output=True, text=True, timeout=30
    )


def start(conf: Path, prefix: Path) -> subprocess.Popen[bytes]:
    binary = nginx_binary()
    if binary is None:
        raise FileNotFoundError("nginx is not installed")
    return subprocess.Popen([binary, "-c", str(conf), "-p", str(prefix)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", type=int, default=8080)
    parser.add_argument("--upstream", action="append", default=[], help="host:port of a daphne process (repeat)")
    parser.add_argument("--static-root", default="staticfiles", help="STATIC_ROOT (served at /static/)")
    parser.add_argument("-t", action="store_true", help="only check the configuration")
    args = parser.parse_args()
    static_root = Path(args.static_root).resolve()
    prefix = Path(tempfile.mkdtemp(prefix="punt-nginx-"))
    # nginx serves /static/x from <root>/static/x: a root whose static/ is STATIC_ROOT.
    (prefix / "root").mkdir()
    (prefix / "root" / "static").symlink_to(static_root)
    conf = write_prefix(
        prefix, upstreams=args.upstream or ["127.0.0.1:8001"], listen=args.listen, static_parent=prefix / "root"
    )
    if args.t:
        result = check(conf, prefix)
        sys.stderr.write(result.stderr)
        sys.exit(result.returncode)
    print(f"nginx on http://127.0.0.1:{args.listen}/ (prefix {prefix})", flush=True)
    process = start(conf, prefix)
    try:
        process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
