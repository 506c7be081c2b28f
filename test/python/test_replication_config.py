"""PutBucketReplication / GetBucketReplication / DeleteBucketReplication as a user drives them
(boto3 and `aws s3api`), row by row against spec §1.6 (validation), §1.4 (GET echo), §1.1
(GET 404, idempotent DELETE), §1.5 (versioning lock), and the seed configurations 000/001/003.

Exact messages are asserted only where the spec marks the text [C] or [O] (verbatim AWS text);
rows marked [U] (a choice of this implementation) or [I] are checked on status and code only.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from replication_util import (
    MSG_DISTINCT_DEST,
    MSG_DMR_CANNOT,
    MSG_DMR_MUST,
    MSG_DST_VERSIONING,
    MSG_KMS_KEY_REQUIRED,
    MSG_MALFORMED,
    MSG_METRICS_THRESHOLD,
    MSG_NOT_FOUND,
    MSG_PRIO_CANNOT,
    MSG_SRC_VERSIONING,
    MSG_SSC_EMPTY,
    MSG_VERSIONING_LOCKED,
    ROLE,
    arn,
    aws,
    config,
    create_bucket,
    error_of,
    expect_error,
    parse_error,
    put_replication_xml,
    unique,
    v1_rule,
    v2_rule,
)

RTC = {"Status": "Enabled", "Time": {"Minutes": 15}}
METRICS = {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}


class Env:
    """A versioned source bucket in us-east-1 and a versioned destination in us-west-2."""

    def __init__(self, server, client_for):
        self.url = server.url
        self.c = client_for("us-east-1")
        self.w = client_for("us-west-2")
        self.src = create_bucket(self.c, unique("cfgsrc"), "us-east-1")
        self.dst = create_bucket(self.w, unique("cfgdst"), "us-west-2")

    def put(self, cfg: dict, bucket: str | None = None):
        return self.c.put_bucket_replication(Bucket=bucket or self.src, ReplicationConfiguration=cfg)

    def get(self, bucket: str | None = None) -> dict:
        return self.c.get_bucket_replication(Bucket=bucket or self.src)["ReplicationConfiguration"]

    def reject(self, cfg: dict, status: int, code: str, **kw) -> ClientError:
        e = expect_error(self.put, status, code, cfg=cfg, **kw)
        # A rejected PUT leaves no configuration behind.
        expect_error(self.get, 404, "ReplicationConfigurationNotFoundError")
        return e

    def accept(self, cfg: dict) -> dict:
        r = self.put(cfg)
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
        return self.get()

    def new_dest(self, region: str = "eu-west-1", versioning: str | None = "Enabled") -> str:
        from replication_util import client

        return create_bucket(client(self.url, region), unique("cfgdst"), region, versioning)


@pytest.fixture
def env(server, client_for):
    return Env(server, client_for)


def xml_doc(*rules: str, role: str | None = ROLE) -> str:
    role_xml = f"<Role>{role}</Role>" if role is not None else ""
    return ('<ReplicationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"{role_xml}{''.join(rules)}</ReplicationConfiguration>")


def xml_rule(dest: str | None, *, status: str | None = "Enabled", filter_xml: str = "<Filter><Prefix></Prefix></Filter>",
             priority: str | None = "1", dmr: str | None = "Disabled", dest_extra: str = "", extra: str = "",
             destination_xml: str | None = None) -> str:
    parts = ["<ID>r1</ID>"]
    if priority is not None:
        parts.append(f"<Priority>{priority}</Priority>")
    parts.append(filter_xml)
    if status is not None:
        parts.append(f"<Status>{status}</Status>")
    parts.append(extra)
    if destination_xml is not None:
        parts.append(destination_xml)
    else:
        bucket = f"<Bucket>{arn(dest)}</Bucket>" if dest is not None else ""
        parts.append(f"<Destination>{bucket}{dest_extra}</Destination>")
    if dmr is not None:
        parts.append(f"<DeleteMarkerReplication><Status>{dmr}</Status></DeleteMarkerReplication>")
    return f"<Rule>{''.join(parts)}</Rule>"


def raw_reject(env: Env, body: str | bytes, status: int, code: str, content_md5: bool = True) -> dict:
    st, _, data = put_replication_xml(env.url, env.src, body, content_md5=content_md5)
    assert st == status, f"HTTP {st}: {data[:600]!r}"
    e = parse_error(data)
    assert e.get("Code") == code, e
    return e


# =============================================================================================
# §1.6 rows 1-3: versioning of source and destination ([C], verbatim)


@pytest.mark.parametrize("state", ["never", "Suspended"])
def test_row1_source_not_versioned(env, state):
    src = create_bucket(env.c, unique("cfgsrc"), "us-east-1", None if state == "never" else "Suspended")
    e = expect_error(env.put, 400, "InvalidRequest", message=MSG_SRC_VERSIONING, cfg=config(v2_rule(env.dst)), bucket=src)
    # [C][LS]: InvalidRequest bodies carry no BucketName.
    assert "BucketName" not in e.response["Error"]


def test_row1_wins_over_missing_destination(env):
    """[C][LS]: an unversioned source is reported before anything about the document."""
    src = create_bucket(env.c, unique("cfgsrc"), "us-east-1", None)
    expect_error(env.put, 400, "InvalidRequest", message=MSG_SRC_VERSIONING,
                 cfg=config(v2_rule(unique("nosuch"), status="Disabled")), bucket=src)


def test_row2_destination_missing_even_for_disabled_rule(env):
    cfg = config(v2_rule(unique("nosuch"), status="Disabled"))
    env.reject(cfg, 400, "InvalidRequest", message=MSG_DST_VERSIONING)


def test_row2_missing_destination_of_second_rule(env):
    cfg = config(v2_rule(env.dst, "ok", 1), v2_rule(unique("nosuch"), "missing", 2, status="Disabled"))
    env.reject(cfg, 400, "InvalidRequest", message=MSG_DST_VERSIONING)


@pytest.mark.parametrize("state", ["never", "Suspended"])
def test_row3_destination_not_versioned(env, state):
    dst = env.new_dest("eu-west-1", None if state == "never" else "Suspended")
    env.reject(config(v2_rule(dst)), 400, "InvalidRequest", message=MSG_DST_VERSIONING)


# =============================================================================================
# rows 4-7: schema (MalformedXML)


def test_row4_zero_rules_boto3(env):
    e = env.reject({"Role": ROLE, "Rules": []}, 400, "MalformedXML", message=MSG_MALFORMED)
    assert "BucketName" not in e.response["Error"]


def test_row4_zero_rules_raw_xml(env):
    e = raw_reject(env, xml_doc(), 400, "MalformedXML")
    assert e["Message"] == MSG_MALFORMED
    assert "BucketName" not in e


def test_row5_more_than_1000_rules(env):
    rules = [v2_rule(env.dst, f"r{i}", i, prefix=f"p{i}/") for i in range(1001)]
    env.reject(config(*rules), 400, "InvalidRequest")


def test_row5_exactly_1000_rules_accepted(env):
    rules = [v2_rule(env.dst, f"r{i}", i, prefix=f"p{i}/") for i in range(1000)]
    got = env.accept(config(*rules))
    assert len(got["Rules"]) == 1000
    assert {r["ID"] for r in got["Rules"]} == {f"r{i}" for i in range(1000)}


ROW6_CASES = {
    "missing-role": lambda d: xml_doc(xml_rule(d), role=None),
    "missing-rule-status": lambda d: xml_doc(xml_rule(d, status=None)),
    "missing-destination": lambda d: xml_doc(xml_rule(d, destination_xml="")),
    "missing-destination-bucket": lambda d: xml_doc(xml_rule(None, dest_extra="<StorageClass>STANDARD</StorageClass>")),
    "bad-rule-status": lambda d: xml_doc(xml_rule(d, status="Paused")),
    "bad-owner": lambda d: xml_doc(xml_rule(d, dest_extra="<Account>000000000000</Account>"
                                            "<AccessControlTranslation><Owner>Source</Owner></AccessControlTranslation>")),
    "bad-storage-class": lambda d: xml_doc(xml_rule(d, dest_extra="<StorageClass>SUPER_FAST</StorageClass>")),
    "bad-dmr-status": lambda d: xml_doc(xml_rule(d, dmr="On")),
    "not-xml": lambda d: "this is not xml",
    "truncated-xml": lambda d: xml_doc(xml_rule(d))[:-30],
}


@pytest.mark.parametrize("case", list(ROW6_CASES))
def test_row6_schema_violations_are_malformed_xml(env, case):
    raw_reject(env, ROW6_CASES[case](env.dst), 400, "MalformedXML")


def test_row6_bad_enums_through_boto3(env):
    """boto3 does not check enum values, so a user can send a bad one."""
    env.reject(config(v2_rule(env.dst, storage_class="SUPER_FAST")), 400, "MalformedXML")
    env.reject(config(v2_rule(env.dst, status="Paused")), 400, "MalformedXML")
    env.reject(config(v2_rule(env.dst, dmr="On")), 400, "MalformedXML")
    assert env.accept(config(v2_rule(env.dst, storage_class="STANDARD")))["Rules"][0]["Destination"]["StorageClass"] == "STANDARD"


@pytest.mark.parametrize("status", ["Enabled", "Disabled"])
def test_row7_existing_object_replication_is_malformed(env, status):
    rule = v2_rule(env.dst)
    rule["ExistingObjectReplication"] = {"Status": status}
    env.reject(config(rule), 400, "MalformedXML", message=MSG_MALFORMED)


# =============================================================================================
# rows 8-12: V1 vs V2


def test_row8_v2_rule_without_delete_marker_replication(env):
    env.reject(config(v2_rule(env.dst, dmr=None)), 400, "InvalidRequest", message_startswith=MSG_DMR_MUST)


def test_row8_v2_empty_filter_without_dmr(env):
    env.reject(config(v2_rule(env.dst, filter={}, dmr=None)), 400, "InvalidRequest", message_startswith=MSG_DMR_MUST)


def test_row9_v2_rule_without_priority(env):
    e = env.reject(config(v2_rule(env.dst, priority=None)), 400, "InvalidRequest")
    assert "Priority" in error_of(e)[2]


def test_row10_v1_rule_with_delete_marker_replication(env):
    rule = v1_rule(env.dst, "v1", DeleteMarkerReplication={"Status": "Enabled"})
    env.reject(config(rule), 400, "InvalidRequest", message=MSG_DMR_CANNOT)


def test_row11_v1_rule_with_priority(env):
    rule = v1_rule(env.dst, "v1", Priority=1)
    env.reject(config(rule), 400, "InvalidRequest", message_startswith=MSG_PRIO_CANNOT)


def test_row12_v1_two_distinct_destinations(env):
    other = env.new_dest()
    cfg = config(v1_rule(env.dst, "a", "a/"), v1_rule(other, "b", "b/"))
    env.reject(cfg, 400, "InvalidRequest", message=MSG_DISTINCT_DEST)


def test_row12_v1_two_rules_one_destination_accepted(env):
    got = env.accept(config(v1_rule(env.dst, "a", "a/"), v1_rule(env.dst, "b", "b/")))
    assert [r["Prefix"] for r in got["Rules"]] == ["a/", "b/"]


def test_v2_two_distinct_destinations_accepted(env):
    other = env.new_dest()
    got = env.accept(config(v2_rule(env.dst, "a", 1), v2_rule(other, "b", 2)))
    assert [r["Destination"]["Bucket"] for r in got["Rules"]] == [arn(env.dst), arn(other)]


# chosen answers for [U] V1 rows


def test_v1_rule_with_replica_modifications_rejected(env):
    rule = v1_rule(env.dst, "v1", SourceSelectionCriteria={"ReplicaModifications": {"Status": "Enabled"}})
    env.reject(config(rule), 400, "InvalidRequest")


@pytest.mark.parametrize("what", ["rtc+metrics", "metrics"])
def test_v1_rule_with_rtc_or_metrics_rejected(env, what):
    rule = v1_rule(env.dst, "v1")
    rule["Destination"]["Metrics"] = METRICS if what == "rtc+metrics" else {"Status": "Enabled"}
    if what == "rtc+metrics":
        rule["Destination"]["ReplicationTime"] = RTC
    env.reject(config(rule), 400, "InvalidRequest")


def test_mixing_v1_and_v2_rules_rejected(env):
    env.reject(config(v1_rule(env.dst, "old", "a/"), v2_rule(env.dst, "new", 1, prefix="b/")), 400, "InvalidRequest")
    env.reject(config(v2_rule(env.dst, "new", 1, prefix="b/"), v1_rule(env.dst, "old", "a/")), 400, "InvalidRequest")


# =============================================================================================
# rows 13-18: filters, source selection, RTC / metrics


@pytest.mark.parametrize("filter", [
    {"Tag": {"Key": "k", "Value": "v"}},
    {"And": {"Prefix": "p/", "Tags": [{"Key": "k", "Value": "v"}]}},
    {"And": {"Tags": [{"Key": "k", "Value": "v"}, {"Key": "k2", "Value": "v2"}]}},
], ids=["tag", "and-prefix-tag", "and-two-tags"])
def test_row13_delete_marker_replication_with_tag_filter(env, filter):
    env.reject(config(v2_rule(env.dst, filter=filter, dmr="Enabled")), 400, "InvalidRequest")
    # The same filter with DeleteMarkerReplication Disabled is valid.
    got = env.accept(config(v2_rule(env.dst, filter=filter, dmr="Disabled")))
    assert got["Rules"][0]["Filter"] == filter


def test_row14_empty_source_selection_criteria(env):
    rule = v2_rule(env.dst)
    rule["SourceSelectionCriteria"] = {}
    env.reject(config(rule), 400, "InvalidRequest", message=MSG_SSC_EMPTY)


def test_row14_empty_source_selection_criteria_raw(env):
    e = raw_reject(env, xml_doc(xml_rule(env.dst, extra="<SourceSelectionCriteria></SourceSelectionCriteria>")),
                   400, "InvalidRequest")
    assert e["Message"] == MSG_SSC_EMPTY


def test_row15_sse_kms_without_replica_kms_key(env):
    rule = v2_rule(env.dst)
    rule["SourceSelectionCriteria"] = {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    env.reject(config(rule), 400, "InvalidRequest", message=MSG_KMS_KEY_REQUIRED)


@pytest.mark.parametrize("rtc", [None, {"Status": "Disabled", "Time": {"Minutes": 15}}], ids=["no-rtc", "rtc-disabled"])
def test_row16_event_threshold_without_enabled_rtc(env, rtc):
    extra = {"Metrics": METRICS}
    if rtc:
        extra["ReplicationTime"] = rtc
    env.reject(config(v2_rule(env.dst, **extra)), 400, "InvalidArgument", message=MSG_METRICS_THRESHOLD)


def test_row16_metrics_without_threshold_and_without_rtc_is_valid(env):
    got = env.accept(config(v2_rule(env.dst, Metrics={"Status": "Enabled"})))
    assert got["Rules"][0]["Destination"]["Metrics"] == {"Status": "Enabled"}
    assert "ReplicationTime" not in got["Rules"][0]["Destination"]


def test_row17_rtc_without_metrics(env):
    env.reject(config(v2_rule(env.dst, ReplicationTime=RTC)), 400, "InvalidRequest")


@pytest.mark.parametrize("where", ["Time", "EventThreshold"])
@pytest.mark.parametrize("minutes", [10, 30])
def test_row18_minutes_other_than_15(env, where, minutes):
    rtc = {"Status": "Enabled", "Time": {"Minutes": minutes if where == "Time" else 15}}
    metrics = {"Status": "Enabled", "EventThreshold": {"Minutes": minutes if where == "EventThreshold" else 15}}
    env.reject(config(v2_rule(env.dst, ReplicationTime=rtc, Metrics=metrics)), 400, "InvalidArgument")


def test_row18_rtc_with_metrics_15_is_valid(env):
    got = env.accept(config(v2_rule(env.dst, ReplicationTime=RTC, Metrics=METRICS)))
    d = got["Rules"][0]["Destination"]
    assert d["ReplicationTime"] == RTC and d["Metrics"] == METRICS


# =============================================================================================
# rows 19-30


def test_row19_duplicate_priority_same_destination(env):
    env.reject(config(v2_rule(env.dst, "a", 3, prefix="a/"), v2_rule(env.dst, "b", 3, prefix="b/")), 400, "InvalidRequest")


def test_row19_duplicate_priority_is_global(env):
    other = env.new_dest()
    env.reject(config(v2_rule(env.dst, "a", 3), v2_rule(other, "b", 3)), 400, "InvalidRequest")


def test_row19_priority_zero_and_distinct_priorities_accepted(env):
    got = env.accept(config(v2_rule(env.dst, "a", 0, prefix="a/"), v2_rule(env.dst, "b", 7, prefix="b/")))
    assert [r["Priority"] for r in got["Rules"]] == [0, 7]


def test_row20_duplicate_rule_id(env):
    env.reject(config(v2_rule(env.dst, "same", 1, prefix="a/"), v2_rule(env.dst, "same", 2, prefix="b/")),
               400, "InvalidArgument")


def test_row21_rule_id_longer_than_255(env):
    env.reject(config(v2_rule(env.dst, "x" * 256)), 400, "InvalidArgument")


def test_row21_rule_id_of_255_accepted(env):
    assert env.accept(config(v2_rule(env.dst, "x" * 255)))["Rules"][0]["ID"] == "x" * 255


def test_row22_object_lock_source(env):
    name = unique("cfglock")
    try:
        env.c.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    except ClientError as e:
        if error_of(e)[1] == "NotImplemented":
            pytest.skip("Object Lock buckets are not implemented by the server")
        raise
    env.c.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    expect_error(env.put, 400, "InvalidRequest",
                 message="Replication configuration cannot be applied to an Object Lock enabled bucket",
                 cfg=config(v2_rule(env.dst)), bucket=name)


@pytest.mark.parametrize("key", [
    "arn:aws:kms:us-west-2:000000000000:key/00000000-0000-0000-0000-000000000000",
    "arn:aws:kms:us-west-2:000000000000:alias/does-not-exist",
])
def test_row23_kms_key_not_validated_at_put(env, key):
    rule = v2_rule(env.dst, EncryptionConfiguration={"ReplicaKmsKeyID": key})
    rule["SourceSelectionCriteria"] = {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    got = env.accept(config(rule))
    assert got["Rules"][0]["Destination"]["EncryptionConfiguration"] == {"ReplicaKmsKeyID": key}
    assert got["Rules"][0]["SourceSelectionCriteria"] == {"SseKmsEncryptedObjects": {"Status": "Enabled"}}


def test_row25_destination_is_source(env):
    env.reject(config(v2_rule(env.src)), 400, "InvalidRequest")


@pytest.mark.parametrize("filter_xml", [
    "<Filter><Prefix>a/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter>",
    "<Filter><Prefix>a/</Prefix><And><Prefix>b/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter>",
    "<Filter><And><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter>",
    "<Filter><And><Prefix>a/</Prefix></And></Filter>",
], ids=["prefix+tag", "prefix+and", "and-one-tag", "and-prefix-only"])
def test_row26_filter_shape(env, filter_xml):
    """[I] MalformedXML: a Filter holds exactly one of Prefix/Tag/And; And needs >= 2 predicates."""
    raw_reject(env, xml_doc(xml_rule(env.dst, filter_xml=filter_xml)), 400, "MalformedXML")


def test_row27_access_control_translation_without_account(env):
    rule = v2_rule(env.dst, AccessControlTranslation={"Owner": "Destination"})
    env.reject(config(rule), 400, "InvalidRequest")
    rule["Destination"]["Account"] = "000000000000"
    got = env.accept(config(rule))
    assert got["Rules"][0]["Destination"]["AccessControlTranslation"] == {"Owner": "Destination"}
    assert got["Rules"][0]["Destination"]["Account"] == "000000000000"


def test_row28_duplicate_tag_keys(env):
    f = {"And": {"Prefix": "p/", "Tags": [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]}}
    env.reject(config(v2_rule(env.dst, filter=f)), 400, "InvalidRequest")


def test_row29_missing_content_md5(env):
    """[I] The operation requires Content-MD5 or an x-amz-checksum-* header."""
    st, _, data = put_replication_xml(env.url, env.src, xml_doc(xml_rule(env.dst)), content_md5=False)
    assert st == 400, data[:500]
    assert parse_error(data)["Code"] == "InvalidRequest"
    # With the header the same document is accepted.
    st, _, data = put_replication_xml(env.url, env.src, xml_doc(xml_rule(env.dst)), content_md5=True)
    assert st == 200, data[:500]


@pytest.mark.parametrize("role", [
    "arn:aws:iam::000000000000:user/bob",
    "replication-role",
    "arn:aws:s3:::some-bucket",
])
def test_row30_role_not_an_iam_role_arn(env, role):
    env.reject(config(v2_rule(env.dst), role=role), 400, "InvalidArgument")


# =============================================================================================
# §1.5: source versioning is locked while a configuration exists


def test_cannot_suspend_source_versioning_with_config(env):
    env.accept(config(v2_rule(env.dst)))
    expect_error(env.c.put_bucket_versioning, 409, "InvalidBucketState", message=MSG_VERSIONING_LOCKED,
                 Bucket=env.src, VersioningConfiguration={"Status": "Suspended"})
    assert env.c.get_bucket_versioning(Bucket=env.src)["Status"] == "Enabled"
    r = env.c.delete_bucket_replication(Bucket=env.src)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    env.c.put_bucket_versioning(Bucket=env.src, VersioningConfiguration={"Status": "Suspended"})
    assert env.c.get_bucket_versioning(Bucket=env.src)["Status"] == "Suspended"


def test_destination_versioning_may_be_suspended_after_config(env):
    env.accept(config(v2_rule(env.dst)))
    env.w.put_bucket_versioning(Bucket=env.dst, VersioningConfiguration={"Status": "Suspended"})
    assert env.w.get_bucket_versioning(Bucket=env.dst)["Status"] == "Suspended"


# =============================================================================================
# §1.1 / §1.4: GET, DELETE, echo


def test_get_without_config_is_404_with_bucket_name(env):
    e = expect_error(env.get, 404, "ReplicationConfigurationNotFoundError", message=MSG_NOT_FOUND)
    assert e.response["Error"].get("BucketName") == env.src


def test_get_without_config_raw_body_has_bucket_name(env):
    from replication_util import signed_request

    st, _, data = signed_request(env.url, "GET", f"/{env.src}", {"replication": ""})
    assert st == 404
    e = parse_error(data)
    assert e["Code"] == "ReplicationConfigurationNotFoundError"
    assert e["Message"] == MSG_NOT_FOUND
    assert e["BucketName"] == env.src


def test_delete_is_idempotent_204(env):
    for _ in range(2):
        r = env.c.delete_bucket_replication(Bucket=env.src)
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    env.accept(config(v2_rule(env.dst)))
    for _ in range(2):
        r = env.c.delete_bucket_replication(Bucket=env.src)
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
        expect_error(env.get, 404, "ReplicationConfigurationNotFoundError")


def test_put_returns_200_empty_body(env):
    from replication_util import signed_request

    st, _, data = put_replication_xml(env.url, env.src, xml_doc(xml_rule(env.dst)))
    assert st == 200 and data == b""
    st, _, data = signed_request(env.url, "GET", f"/{env.src}", {"replication": ""})
    assert st == 200 and b"<ReplicationConfiguration" in data


def test_get_generates_id_when_omitted(env):
    got = env.accept(config(v2_rule(env.dst, rule_id=None)))
    rid = got["Rules"][0].get("ID")
    assert rid and len(rid) <= 255
    # Stable: a second GET shows the same generated id.
    assert env.get()["Rules"][0]["ID"] == rid


def test_get_generates_distinct_ids(env):
    other = env.new_dest()
    got = env.accept(config(v2_rule(env.dst, rule_id=None, priority=1), v2_rule(other, rule_id=None, priority=2)))
    ids = [r.get("ID") for r in got["Rules"]]
    assert all(ids) and ids[0] != ids[1]


def test_get_echo_empty_filter_stays_empty(env):
    got = env.accept(config(v2_rule(env.dst, "r", filter={})))
    assert got["Rules"][0]["Filter"] == {}


def test_get_echo_v1_stays_v1(env):
    got = env.accept(config(v1_rule(env.dst, "v1", "Tax")))
    rule = got["Rules"][0]
    assert rule["Prefix"] == "Tax"
    for absent in ("Filter", "Priority", "DeleteMarkerReplication"):
        assert absent not in rule, f"{absent} injected into a V1 rule: {rule}"
    assert rule == {"ID": "v1", "Prefix": "Tax", "Status": "Enabled", "Destination": {"Bucket": arn(env.dst)}}
    assert got["Role"] == ROLE


def test_get_echo_v1_empty_prefix_without_id(env):
    got = env.accept(config(v1_rule(env.dst, None, "")))
    rule = got["Rules"][0]
    assert rule.get("ID")
    assert rule.get("Prefix", "") == ""
    for absent in ("Filter", "Priority", "DeleteMarkerReplication"):
        assert absent not in rule


def test_get_echo_full_v2_document(env):
    other = env.new_dest()
    rules = [
        v2_rule(env.dst, "tax", 0, prefix="Tax", storage_class="STANDARD_IA", dmr="Enabled",
                ReplicationTime=RTC, Metrics=METRICS),
        v2_rule(other, "tagged", 5, filter={"And": {"Prefix": "docs/", "Tags": [
            {"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}}, status="Disabled",
            replica_modifications="Enabled", Metrics={"Status": "Disabled"}),
        v2_rule(other, "onetag", 9, filter={"Tag": {"Key": "c", "Value": "3"}}, storage_class="GLACIER_IR"),
    ]
    got = env.accept(config(*rules))
    assert got == config(*rules)


def test_put_replaces_whole_document(env):
    other = env.new_dest()
    env.accept(config(v2_rule(env.dst, "a", 1, prefix="a/"), v2_rule(env.dst, "b", 2, prefix="b/")))
    got = env.accept(config(v2_rule(other, "c", 1, prefix="c/")))
    assert [r["ID"] for r in got["Rules"]] == ["c"]
    assert got["Rules"][0]["Destination"]["Bucket"] == arn(other)


def test_config_survives_delete_of_other_bucket_config(env):
    """Configurations are per bucket: deleting one bucket's leaves another's."""
    src2 = create_bucket(env.c, unique("cfgsrc"), "us-east-1")
    env.accept(config(v2_rule(env.dst, "one")))
    env.put(config(v2_rule(env.dst, "two")), bucket=src2)
    env.c.delete_bucket_replication(Bucket=src2)
    assert env.get()["Rules"][0]["ID"] == "one"
    expect_error(env.get, 404, "ReplicationConfigurationNotFoundError", bucket=src2)


# =============================================================================================
# aws CLI (`aws s3api put-bucket-replication --replication-configuration file://...`)


def cli_put(env: Env, tmp_path: Path, cfg: dict, name: str = "replication.json"):
    p = tmp_path / name
    p.write_text(json.dumps(cfg, indent=2))
    return aws(env.url, "s3api", "put-bucket-replication", "--bucket", env.src,
               "--replication-configuration", f"file://{p}")


def cli_get(env: Env) -> tuple[int, str, str]:
    return aws(env.url, "s3api", "get-bucket-replication", "--bucket", env.src)


def assert_cli_error(res: tuple[int, str, str], code: str, message: str | None = None):
    rc, out, err = res
    assert rc != 0, f"expected failure, got exit 0: {out}"
    assert f"({code})" in err, err
    if message is not None:
        assert message in err, err


def test_cli_put_get_delete_roundtrip(env, tmp_path):
    cfg = config(v2_rule(env.dst, "cli-rule", 1, prefix="logs/", storage_class="STANDARD_IA", dmr="Enabled"))
    rc, out, err = cli_put(env, tmp_path, cfg)
    assert rc == 0, err
    rc, out, err = cli_get(env)
    assert rc == 0, err
    assert json.loads(out)["ReplicationConfiguration"] == cfg
    rc, out, err = aws(env.url, "s3api", "delete-bucket-replication", "--bucket", env.src)
    assert rc == 0, err
    assert_cli_error(cli_get(env), "ReplicationConfigurationNotFoundError", MSG_NOT_FOUND)
    rc, _, err = aws(env.url, "s3api", "delete-bucket-replication", "--bucket", env.src)
    assert rc == 0, err


def test_cli_source_unversioned(env, tmp_path):
    env.src = create_bucket(env.c, unique("cfgsrc"), "us-east-1", None)
    assert_cli_error(cli_put(env, tmp_path, config(v2_rule(env.dst))), "InvalidRequest", MSG_SRC_VERSIONING)


def test_cli_destination_missing(env, tmp_path):
    assert_cli_error(cli_put(env, tmp_path, config(v2_rule(unique("nosuch")))), "InvalidRequest", MSG_DST_VERSIONING)


def test_cli_v1_with_dmr(env, tmp_path):
    rule = v1_rule(env.dst, "v1", DeleteMarkerReplication={"Status": "Disabled"})
    assert_cli_error(cli_put(env, tmp_path, config(rule)), "InvalidRequest", MSG_DMR_CANNOT)


def test_cli_existing_object_replication(env, tmp_path):
    rule = v2_rule(env.dst)
    rule["ExistingObjectReplication"] = {"Status": "Enabled"}
    assert_cli_error(cli_put(env, tmp_path, config(rule)), "MalformedXML", MSG_MALFORMED)


def test_cli_shorthand_json_inline(env):
    cfg = config(v2_rule(env.dst, "inline", 2))
    rc, _, err = aws(env.url, "s3api", "put-bucket-replication", "--bucket", env.src,
                     "--replication-configuration", json.dumps(cfg))
    assert rc == 0, err
    assert env.get() == cfg


# =============================================================================================
# Seeds: the put-bucket-replication documents of /work/shared/seeds/000_*, 001_*, 003_*,
# with bucket names, account and role adapted to this server.


def seed000(env: Env, dest2: str, fixed: bool) -> dict:
    """Seed 000 ('Establishing Global Data Replication', step 5): three V2 rules, RTC + metrics,
    ReplicaKmsKeyID, and rule ReplicateCriticalDataFast = And(prefix critical/, tag Priority=High)
    with DeleteMarkerReplication Enabled — which AWS rejects (row 13).

    fixed=True is what a user does after that error: DMR Disabled on the tag rule; and since
    the seed sets ReplicaKmsKeyID it also opts SSE-KMS objects in (row 15 pairs them)."""
    def rule(rid, prio, dest, sc, filt, key_region):
        r = {
            "ID": rid, "Status": "Enabled", "Priority": prio, "Filter": filt,
            "DeleteMarkerReplication": {"Status": "Enabled"},
            "Destination": {
                "Bucket": arn(dest), "StorageClass": sc,
                "EncryptionConfiguration": {
                    "ReplicaKmsKeyID": f"arn:aws:kms:{key_region}:000000000000:key/11111111-2222-3333-4444-555555555555"},
                "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}},
                "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
            },
        }
        if fixed:
            r["SourceSelectionCriteria"] = {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
        return r

    rules = [
        rule("ReplicateAllToSecondary", 1, env.dst, "STANDARD_IA", {"Prefix": ""}, "us-west-2"),
        rule("ReplicateAllToTertiary", 2, dest2, "STANDARD_IA", {"Prefix": ""}, "eu-west-1"),
        rule("ReplicateCriticalDataFast", 0, env.dst, "STANDARD",
             {"And": {"Prefix": "critical/", "Tags": [{"Key": "Priority", "Value": "High"}]}}, "us-west-2"),
    ]
    if fixed:
        rules[2]["DeleteMarkerReplication"] = {"Status": "Disabled"}
    return {"Role": "arn:aws:iam::000000000000:role/MultiRegionReplicationRole-abc123", "Rules": rules}


def test_seed000_as_written_is_rejected(env, tmp_path):
    dest2 = env.new_dest("eu-west-1")
    cfg = seed000(env, dest2, fixed=False)
    assert_cli_error(cli_put(env, tmp_path, cfg), "InvalidRequest")
    env.reject(cfg, 400, "InvalidRequest")


def test_seed000_fixed_is_accepted(env, tmp_path):
    dest2 = env.new_dest("eu-west-1")
    cfg = seed000(env, dest2, fixed=True)
    rc, _, err = cli_put(env, tmp_path, cfg)
    assert rc == 0, err
    rc, out, err = aws(env.url, "s3api", "get-bucket-replication", "--bucket", env.src,
                       "--query", "ReplicationConfiguration.Rules[].Status")
    assert rc == 0, err
    assert json.loads(out) == ["Enabled", "Enabled", "Enabled"]  # the seed's expected output
    assert env.get() == cfg


def seed001(env: Env, priority: bool, rtc: bool = False) -> dict:
    """Seed 001 ('A Complete Setup Guide', step 3): a Filter rule with DeleteMarkerReplication
    and no Priority; step 4 adds RTC + Metrics to the Destination."""
    rule = {
        "ID": "DR-Replication-Rule", "Status": "Enabled", "Filter": {"Prefix": ""},
        "Destination": {"Bucket": arn(env.dst), "StorageClass": "STANDARD_IA"},
        "DeleteMarkerReplication": {"Status": "Enabled"},
    }
    if priority:
        rule["Priority"] = 1
    if rtc:
        rule["Destination"]["ReplicationTime"] = {"Status": "Enabled", "Time": {"Minutes": 15}}
        rule["Destination"]["Metrics"] = {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}
    return {"Role": "arn:aws:iam::000000000000:role/S3ReplicationRole", "Rules": [rule]}


@pytest.mark.parametrize("rtc", [False, True], ids=["step3", "step3+rtc"])
def test_seed001_as_written_is_rejected_for_missing_priority(env, tmp_path, rtc):
    cfg = seed001(env, priority=False, rtc=rtc)
    rc, out, err = cli_put(env, tmp_path, cfg)
    assert_cli_error((rc, out, err), "InvalidRequest")
    assert "Priority" in err
    env.reject(cfg, 400, "InvalidRequest")


@pytest.mark.parametrize("rtc", [False, True], ids=["step3", "step3+rtc"])
def test_seed001_with_priority_is_accepted(env, tmp_path, rtc):
    cfg = seed001(env, priority=True, rtc=rtc)
    rc, _, err = cli_put(env, tmp_path, cfg)
    assert rc == 0, err
    assert env.get() == cfg


def seed003(env: Env, dmr: bool) -> dict:
    """Seed 003 ('CRR in Amazon S3', step 4): inline JSON with Priority and Filter {Prefix: ""}
    and no DeleteMarkerReplication."""
    rule = {"ID": "ReplicateToEU", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": ""},
            "Destination": {"Bucket": arn(env.dst), "StorageClass": "STANDARD"}}
    if dmr:
        rule["DeleteMarkerReplication"] = {"Status": "Disabled"}
    return {"Role": "arn:aws:iam::000000000000:role/s3-replication-role", "Rules": [rule]}


def test_seed003_as_written_is_rejected_for_missing_dmr(env):
    cfg = seed003(env, dmr=False)
    # the seed passes the JSON inline on the command line
    res = aws(env.url, "s3api", "put-bucket-replication", "--bucket", env.src, "--replication-configuration", json.dumps(cfg))
    assert_cli_error(res, "InvalidRequest", MSG_DMR_MUST)
    env.reject(cfg, 400, "InvalidRequest", message_startswith=MSG_DMR_MUST)


def test_seed003_with_dmr_is_accepted(env):
    cfg = seed003(env, dmr=True)
    rc, _, err = aws(env.url, "s3api", "put-bucket-replication", "--bucket", env.src,
                     "--replication-configuration", json.dumps(cfg))
    assert rc == 0, err
    assert env.get() == cfg


# =============================================================================================
# §1.1 request headers and the bucket itself


@pytest.mark.parametrize("op", ["put", "get", "delete"])
def test_expected_bucket_owner_mismatch_is_403(env, op):
    calls = {
        "put": lambda **kw: env.c.put_bucket_replication(Bucket=env.src, ReplicationConfiguration=config(v2_rule(env.dst)), **kw),
        "get": lambda **kw: env.c.get_bucket_replication(Bucket=env.src, **kw),
        "delete": lambda **kw: env.c.delete_bucket_replication(Bucket=env.src, **kw),
    }
    if op != "put":
        env.accept(config(v2_rule(env.dst, "keep")))
    expect_error(calls[op], 403, "AccessDenied", ExpectedBucketOwner="111122223333")
    if op != "put":
        assert env.get()["Rules"][0]["ID"] == "keep"  # a refused DELETE changed nothing
    calls[op](ExpectedBucketOwner="000000000000")


@pytest.mark.parametrize("op", ["put", "get", "delete"])
def test_no_such_bucket(env, op):
    name = unique("nosuch")
    calls = {
        "put": lambda: env.c.put_bucket_replication(Bucket=name, ReplicationConfiguration=config(v2_rule(env.dst))),
        "get": lambda: env.c.get_bucket_replication(Bucket=name),
        "delete": lambda: env.c.delete_bucket_replication(Bucket=name),
    }
    expect_error(calls[op], 404, "NoSuchBucket")
