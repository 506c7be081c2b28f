"""s3cmd and rclone, two S3 clients users bring unchanged, against a real xregion server.

Each runs as a user would run it, from a config file that names the endpoint, with its own
defaults (s3cmd: SigV4, path style, multipart above a chunk size; rclone: provider "Other", path
style, MD5 and mtime kept in metadata). The bytes, listings and hashes they report are checked
against the files on disk and against what boto3 reads back.

Both are Debian packages (`apt-get install s3cmd rclone`). Without them these tests are skipped,
so that `npm test` runs on a machine that has only what the README asks for; CI installs them
and sets XREGION_REQUIRE_CLIENTS=1, which makes a missing tool a failure instead.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import ACCESS_KEY, MiB, SECRET_KEY, new_bucket_name
from s3util import random_file, tree


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    if os.environ.get("XREGION_REQUIRE_CLIENTS"):
        pytest.fail(f"{name} is not installed (XREGION_REQUIRE_CLIENTS is set): apt-get install {name}")
    pytest.skip(f"{name} is not installed (apt-get install {name})")


def client_env(home: Path) -> dict[str, str]:
    # Nothing of the caller's AWS setup (a CA bundle, a profile) may leak into the clients.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}
    env["HOME"] = str(home)
    return env


def md5_file(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def make_tree(root: Path) -> None:
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_bytes(b"alpha\n")
    (root / "b.bin").write_bytes(os.urandom(70_000))
    (root / "sub" / "c.txt").write_bytes(b"")
    (root / "sub" / "deeper" / "d e+f.txt").write_bytes(b"a key with a space and a plus\n")


# ---------------------------------------------------------------------------------------- s3cmd


@pytest.fixture(scope="module")
def s3cmd(server, tmp_path_factory):
    """s3cmd(*args) -> (exit code, stdout, stderr), with a config file aimed at the test server."""
    exe = require_tool("s3cmd")
    home = tmp_path_factory.mktemp("s3cmd-home")
    host = f"127.0.0.1:{server.port}"
    cfg = home / "s3cfg"
    cfg.write_text(
        "[default]\n"
        f"access_key = {ACCESS_KEY}\nsecret_key = {SECRET_KEY}\n"
        f"host_base = {host}\nhost_bucket = {host}\n"
        "use_https = False\nbucket_location = us-east-1\nsignature_v2 = False\n"
    )

    def run(*args: str | Path, timeout: float = 180) -> tuple[int, str, str]:
        r = subprocess.run(
            [exe, "-c", str(cfg), *map(str, args)],
            env=client_env(home), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
        )
        return r.returncode, r.stdout, r.stderr

    return run


def ok(result: tuple[int, str, str]) -> str:
    code, out, errout = result
    assert code == 0, f"exit {code}\nstdout: {out[-2000:]}\nstderr: {errout[-4000:]}"
    return out


def test_s3cmd_put_get_ls_info_round_trip(s3cmd, s3, tmp_path):
    b = new_bucket_name("s3c")
    ok(s3cmd("mb", f"s3://{b}"))
    small, big = tmp_path / "small.bin", tmp_path / "big.bin"
    small.write_bytes(os.urandom(100_000))
    random_file(big, 12 * MiB + 5)
    ok(s3cmd("put", small, f"s3://{b}/dir/small.bin"))
    # 12 MiB in 5 MiB parts: a multipart upload of three parts.
    ok(s3cmd("put", "--multipart-chunk-size-mb=5", big, f"s3://{b}/big.bin"))
    assert s3.head_object(Bucket=b, Key="big.bin")["ETag"].endswith('-3"')

    listing = ok(s3cmd("ls", "-r", f"s3://{b}"))
    rows = sorted((line.split()[-2:] for line in listing.splitlines() if line.strip()), key=lambda r: r[1])
    assert rows == [[str(12 * MiB + 5), f"s3://{b}/big.bin"], ["100000", f"s3://{b}/dir/small.bin"]], listing
    assert f"DIR  s3://{b}/dir/" in ok(s3cmd("ls", f"s3://{b}"))

    for name, local in (("dir/small.bin", small), ("big.bin", big)):
        back = tmp_path / f"back-{local.name}"
        ok(s3cmd("get", "--force", f"s3://{b}/{name}", back))
        assert md5_file(back) == md5_file(local)

    info = ok(s3cmd("info", f"s3://{b}/dir/small.bin"))
    assert f"MD5 sum:   {md5_file(small)}" in info, info
    assert "SSE:       AES256" in info, info
    assert "Location:  us-east-1" in ok(s3cmd("info", f"s3://{b}"))


def test_s3cmd_sync_up_with_deletes_and_back_down(s3cmd, s3, tmp_path):
    b = new_bucket_name("s3c")
    ok(s3cmd("mb", f"s3://{b}"))
    src = tmp_path / "src"
    make_tree(src)
    ok(s3cmd("sync", f"{src}/", f"s3://{b}/tree/"))
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"])
    assert keys == ["tree/a.txt", "tree/b.bin", "tree/sub/c.txt", "tree/sub/deeper/d e+f.txt"]

    (src / "a.txt").unlink()
    (src / "b.bin").write_bytes(b"changed")
    ok(s3cmd("sync", "--delete-removed", f"{src}/", f"s3://{b}/tree/"))
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"])
    assert keys == ["tree/b.bin", "tree/sub/c.txt", "tree/sub/deeper/d e+f.txt"]

    down = tmp_path / "down"
    down.mkdir()
    ok(s3cmd("sync", f"s3://{b}/tree/", f"{down}/"))
    assert tree(down) == tree(src)


def test_s3cmd_cp_and_mv_succeed(s3cmd, s3):
    """s3cmd copies, then puts back the ACL it read from the source (the owner's full control):
    AWS accepts that document under BucketOwnerEnforced, so both commands must exit 0."""
    b = new_bucket_name("s3c")
    ok(s3cmd("mb", f"s3://{b}"))
    s3.put_object(Bucket=b, Key="orig", Body=b"copied by s3cmd", Metadata={"colour": "blue"})
    ok(s3cmd("cp", f"s3://{b}/orig", f"s3://{b}/copy"))
    ok(s3cmd("mv", f"s3://{b}/copy", f"s3://{b}/moved"))
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"])
    assert keys == ["moved", "orig"]
    got = s3.get_object(Bucket=b, Key="moved")
    assert got["Body"].read() == b"copied by s3cmd"
    assert got["Metadata"] == {"colour": "blue"}


def test_s3cmd_acls_public_refused_private_accepted(s3cmd, s3):
    b = new_bucket_name("s3c")
    ok(s3cmd("mb", f"s3://{b}"))
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    code, out, errout = s3cmd("setacl", "--acl-public", f"s3://{b}/k")
    assert code != 0 and "AccessControlListNotSupported" in errout, (code, out, errout)
    ok(s3cmd("setacl", "--acl-private", f"s3://{b}/k"))
    grants = s3.get_object_acl(Bucket=b, Key="k")["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]


def test_s3cmd_signurl_is_sigv2_and_refused_as_aws_does(s3cmd, s3):
    """s3cmd signs URLs with SigV2 only; S3 accepts SigV4 only for buckets created since June 2020."""
    b = new_bucket_name("s3c")
    ok(s3cmd("mb", f"s3://{b}"))
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    url = ok(s3cmd("signurl", f"s3://{b}/k", "+600")).strip()
    assert "Signature=" in url and "AWSAccessKeyId=" in url, url
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url, timeout=30)
    body = e.value.read().decode()
    assert e.value.code == 400
    assert "<Code>InvalidRequest</Code>" in body and "AWS4-HMAC-SHA256" in body, body


def test_s3cmd_del_recursive_and_rb(s3cmd, s3, tmp_path):
    b = new_bucket_name("s3c")
    ok(s3cmd("mb", f"s3://{b}"))
    src = tmp_path / "src"
    make_tree(src)
    ok(s3cmd("put", "--recursive", f"{src}/", f"s3://{b}/"))
    code, _, errout = s3cmd("rb", f"s3://{b}")
    assert code != 0 and "BucketNotEmpty" in errout, errout
    ok(s3cmd("del", "--recursive", "--force", f"s3://{b}/"))
    assert s3.list_objects_v2(Bucket=b)["KeyCount"] == 0
    ok(s3cmd("rb", f"s3://{b}"))
    assert b not in [x["Name"] for x in s3.list_buckets()["Buckets"]]


# --------------------------------------------------------------------------------------- rclone


@pytest.fixture(scope="module")
def rclone(server, tmp_path_factory):
    """rclone(*args) -> (exit code, stdout, stderr), remote `xr:` aimed at the test server."""
    exe = require_tool("rclone")
    home = tmp_path_factory.mktemp("rclone-home")
    cfg = home / "rclone.conf"
    cfg.write_text(
        "[xr]\ntype = s3\nprovider = Other\n"
        f"access_key_id = {ACCESS_KEY}\nsecret_access_key = {SECRET_KEY}\n"
        f"region = us-east-1\nendpoint = {server.url}\nforce_path_style = true\n"
    )

    def run(*args: str | Path, timeout: float = 180) -> tuple[int, str, str]:
        r = subprocess.run(
            [exe, "--config", str(cfg), "--retries", "1", "--low-level-retries", "2", *map(str, args)],
            env=client_env(home), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
        )
        return r.returncode, r.stdout, r.stderr

    return run


def test_rclone_copy_check_and_hashes(rclone, tmp_path):
    b = new_bucket_name("rc")
    ok(rclone("mkdir", f"xr:{b}"))
    src = tmp_path / "src"
    make_tree(src)
    ok(rclone("copy", src, f"xr:{b}/tree"))
    # check compares sizes and MD5s (the ETags of single-part uploads) file by file.
    code, out, errout = rclone("check", src, f"xr:{b}/tree")
    assert code == 0 and "0 differences found" in errout, errout
    sums = dict(reversed(line.split("  ", 1)) for line in ok(rclone("md5sum", f"xr:{b}/tree")).splitlines())
    assert sums == {p: hashlib.md5(data).hexdigest() for p, data in tree(src).items()}


def test_rclone_multipart_upload_keeps_md5_and_mtime(rclone, s3, tmp_path):
    b = new_bucket_name("rc")
    ok(rclone("mkdir", f"xr:{b}"))
    big = tmp_path / "big.bin"
    random_file(big, 11 * MiB + 3)
    os.utime(big, (1_700_000_000, 1_700_000_000))
    ok(rclone("copyto", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", big, f"xr:{b}/big.bin"))
    assert s3.head_object(Bucket=b, Key="big.bin")["ETag"].endswith('-3"')
    [entry] = json.loads(ok(rclone("lsjson", "--hash", f"xr:{b}/big.bin")))
    assert entry["Size"] == 11 * MiB + 3
    # A multipart ETag is not an MD5: rclone keeps the MD5 in the object's metadata, as on AWS.
    assert entry["Hashes"]["md5"] == md5_file(big)
    assert entry["ModTime"].startswith("2023-11-14T22:13:20")
    back = tmp_path / "back.bin"
    ok(rclone("copyto", f"xr:{b}/big.bin", back))
    assert md5_file(back) == md5_file(big)


def test_rclone_sync_server_side_move_and_purge(rclone, s3, tmp_path):
    b = new_bucket_name("rc")
    ok(rclone("mkdir", f"xr:{b}"))
    src = tmp_path / "src"
    make_tree(src)
    ok(rclone("sync", src, f"xr:{b}/tree"))
    (src / "a.txt").unlink()
    ok(rclone("sync", src, f"xr:{b}/tree"))
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"])
    assert keys == ["tree/b.bin", "tree/sub/c.txt", "tree/sub/deeper/d e+f.txt"]

    # moveto within a bucket is a server-side CopyObject and a DeleteObject.
    code, out, errout = rclone("moveto", "-v", f"xr:{b}/tree/b.bin", f"xr:{b}/moved.bin")
    assert code == 0 and "server-side copy" in errout, errout
    assert s3.get_object(Bucket=b, Key="moved.bin")["Body"].read() == (src / "b.bin").read_bytes()
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"])
    assert keys == ["moved.bin", "tree/sub/c.txt", "tree/sub/deeper/d e+f.txt"]

    ok(rclone("purge", f"xr:{b}"))
    assert b not in [x["Name"] for x in s3.list_buckets()["Buckets"]]
