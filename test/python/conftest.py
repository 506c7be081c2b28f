"""
End-to-end fixtures: one real xregion server process for the whole session, driven by boto3
and the aws CLI exactly as a user would drive AWS. Nothing of the server is mocked.

The repository root is found from this file's location, so the suite runs from any clone.
"""
from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from s3util import server_url

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "bin" / "xregion.js"
DIST_MAIN = ROOT / "dist" / "src" / "cli" / "main.js"

ACCESS_KEY = "test"
SECRET_KEY = "test"
ACCOUNT_ID = "000000000000"
REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
MiB = 1024 * 1024


def _needs_build() -> bool:
    if os.environ.get("XREGION_SKIP_BUILD"):
        return False
    if not DIST_MAIN.exists():
        return True
    built = DIST_MAIN.stat().st_mtime
    return any(p.stat().st_mtime > built for p in (ROOT / "src").rglob("*.ts"))


def _build() -> None:
    if not _needs_build():
        return
    if not (ROOT / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
    r = subprocess.run(
        ["npx", "tsc", "-p", "tsconfig.json"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    # tsc still emits JavaScript when it reports type errors (noEmitOnError is off), and type
    # errors elsewhere in the tree (bench/, test/) must not stop these tests; only a missing
    # server entry point is fatal.
    if r.returncode != 0 and not DIST_MAIN.exists():
        pytest.exit(f"tsc build failed:\n{r.stdout}\n{r.stderr}", returncode=3)
    if r.returncode != 0:
        print(f"warning: tsc reported errors (continuing with emitted output):\n{r.stdout[-2000:]}")


@dataclass
class Server:
    url: str
    port: int
    data_dir: Path
    proc: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


@pytest.fixture(scope="session")
def server():
    _build()
    base = Path(tempfile.mkdtemp(prefix="xregion-pytest-"))
    data_dir = base / "data"
    log_path = base / "server.log"
    log_file = open(log_path, "wb")
    proc = subprocess.Popen(
        ["node", str(BIN), "serve", "--port", "0", "--host", "127.0.0.1", "--data-dir", str(data_dir)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log_file,
    )
    url = server_url(proc, 20)
    if url is None:
        proc.kill()
        proc.wait()
        log_file.close()
        pytest.exit(f"xregion did not start within 20 s:\n{log_path.read_text(errors='replace')}", returncode=3)
    port = int(url.rsplit(":", 1)[1].rstrip("/"))
    srv = Server(url=url, port=port, data_dir=data_dir, proc=proc, log_path=log_path)
    _ensure_replication_roles(srv)
    try:
        yield srv
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log_file.close()
        if not os.environ.get("XREGION_KEEP_DATA"):
            shutil.rmtree(base, ignore_errors=True)


def _ensure_replication_roles(srv: Server) -> None:
    """Replication runs as the role named in the configuration: it must exist in the bucket owner's
    account with a trust policy for s3.amazonaws.com. The replication tests name roles that they do
    not create, so the session server gets them here (idempotent). A failure is reported but does not
    stop the session: only the tests that replicate depend on it, and they fail on their own."""
    try:
        from replication_util import ensure_replication_roles

        ensure_replication_roles(srv.url)
    except Exception as e:  # noqa: BLE001 - reported, not fatal for the other suites
        msg = f"warning: could not create the replication roles on the session server: {type(e).__name__}: {e}"
        print(msg)
        import sys

        sys.stderr.write(msg + "\n")


def make_client(server: Server, region: str = "us-east-1", **config):
    cfg = Config(
        region_name=region,
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"max_attempts": 2, "mode": "standard"},
        connect_timeout=10,
        read_timeout=120,
        **config,
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=server.url,
        region_name=region,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=cfg,
    )


@pytest.fixture(scope="session")
def client_for(server):
    """client_for(region) -> a boto3 S3 client signing for that region (cached)."""
    cache: dict[str, object] = {}

    def get(region: str = "us-east-1"):
        if region not in cache:
            cache[region] = make_client(server, region)
        return cache[region]

    return get


@pytest.fixture(scope="session")
def s3(client_for):
    return client_for("us-east-1")


@pytest.fixture(scope="session")
def s3_resource(server):
    return boto3.session.Session().resource(
        "s3",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2, "mode": "standard"}),
    )


def cli_env(server: Server, region: str = "us-east-1", config_file: str = "/dev/null") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION=region,
        AWS_REGION=region,
        AWS_ENDPOINT_URL=server.url,
        AWS_CONFIG_FILE=config_file,
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="2",
        AWS_RETRY_MODE="standard",
    )
    return env


@pytest.fixture(scope="session")
def sigv4_cli_config(tmp_path_factory):
    """A CLI config file whose only setting is `s3.signature_version = s3v4`.

    botocore (so CLI v1's `aws s3 presign`) presigns S3 URLs with SigV2 unless a signature version
    is configured; xregion accepts SigV4 only, as AWS does for buckets created since June 2020.
    """
    path = tmp_path_factory.mktemp("awsconfig") / "config"
    path.write_text("[default]\ns3 =\n    signature_version = s3v4\n")
    return str(path)


@pytest.fixture(scope="session")
def cli(server):
    """cli(*args, region=..., input=bytes, cwd=..., timeout=..., config_file=...) -> (code, stdout, stderr).

    Runs the real `aws` CLI aimed at the test server. stdout/stderr are str unless binary=True.
    """

    def run(*args, region: str = "us-east-1", input: bytes | None = None, cwd=None, timeout: float = 180,
            binary: bool = False, config_file: str = "/dev/null"):
        r = subprocess.run(
            ["aws", *[str(a) for a in args]],
            env=cli_env(server, region, config_file),
            input=input if input is not None else b"",
            capture_output=True,
            cwd=cwd,
            timeout=timeout,
        )
        if binary:
            return r.returncode, r.stdout, r.stderr.decode(errors="replace")
        return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")

    return run


@pytest.fixture(scope="session")
def cli_ok(cli):
    """Like cli, but fails the test (with the CLI's output) unless the command exits 0."""

    def run(*args, **kw):
        code, out, err = cli(*args, **kw)
        assert code == 0, f"aws {' '.join(map(str, args))} exited {code}\nstdout: {out!s:.2000}\nstderr: {err!s:.4000}"
        return out

    return run


_counter = itertools.count()


def new_bucket_name(prefix: str = "xr") -> str:
    return f"{prefix}-{os.getpid()}-{next(_counter)}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def bucket_name():
    """A fresh, valid, unused bucket name (not created)."""
    return new_bucket_name()


@pytest.fixture
def bucket(s3):
    """A fresh bucket in us-east-1."""
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def versioned_bucket(s3):
    name = new_bucket_name("xv")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def headers(resp) -> dict[str, str]:
    return resp["ResponseMetadata"]["HTTPHeaders"]


def status(resp) -> int:
    return resp["ResponseMetadata"]["HTTPStatusCode"]
