"""The chain's pure functions: canonical forms and the verifier's verdicts."""

import datetime
import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from audit import chain


def _row(seq, prev_hash, *, reason="r", salt="00" * 16, label="system"):
    created = datetime.datetime(2026, 11, 22, 0, 0, seq, tzinfo=datetime.UTC)
    digest = chain.personal_digest(salt, actor_label=label, ip_address=None, personal=None)
    sealed = chain.sealed_text(
        seq=seq,
        created=created,
        actor_id=None,
        event=2002,
        target_type="",
        target_id="",
        reason=reason,
        details={},
        personal_digest=digest,
    )
    return [
        seq,
        created,
        None,
        2002,
        "",
        "",
        reason,
        {},
        label,
        None,
        None,
        salt,
        digest,
        prev_hash,
        chain.entry_hash(prev_hash, sealed),
    ]


def _chain(n):
    rows, prev = [], chain.GENESIS_HASH
    for seq in range(1, n + 1):
        row = _row(seq, prev)
        rows.append(row)
        prev = row[-1]
    return rows


def _verify(rows):
    verifier = chain.ChainVerifier(erasure_event=3021, subject_type="accounts.user")
    verifier.feed_all(rows)
    verifier.check_erasures()
    return [str(problem) for problem in verifier.problems]


def test_canonical_json_is_sorted_compact_and_unescaped():
    assert chain.canonical_json({"b": 1, "a": ["é", None]}) == '{"a":["é",null],"b":1}'


def test_times_are_utc_with_microseconds():
    paris = datetime.timezone(datetime.timedelta(hours=1))
    value = datetime.datetime(2026, 11, 22, 1, 0, 0, tzinfo=paris)
    assert chain.format_time(value) == "2026-11-22T00:00:00.000000+00:00"


def test_ip_addresses_are_canonical():
    assert chain.normalise_ip("2001:0DB8::0001") == "2001:db8::1"
    assert chain.normalise_ip(" 192.0.2.1 ") == "192.0.2.1"
    assert chain.normalise_ip("") is None


def test_an_intact_chain_has_no_problem():
    assert _verify(_chain(5)) == []


def test_each_kind_of_tampering_is_named():
    rows = _chain(6)
    rows[1][6] = "edited"  # entry 2's reason
    rows[3][8] = "someone else"  # entry 4's label
    del rows[4]  # entry 5
    assert _verify(rows) == [
        "entry 2: its content does not match its hash (stored "
        f"{rows[1][-1][:16]}..., computed {_row(2, rows[0][-1], reason='edited')[-1][:16]}...): "
        "the entry was altered",
        "entry 4: its personal columns (actor label, IP address, personal details) do not "
        "match their digest: they were altered",
        "entry 5: missing",
        "entry 6: its previous hash does not match the entry before it (an entry was "
        "removed, inserted or rewritten)",
    ]


json_scalars = st.none() | st.booleans() | st.integers() | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(
    seq=st.integers(min_value=1, max_value=2**62),
    created=st.datetimes(timezones=st.just(datetime.UTC)),
    actor_id=st.none() | st.integers(min_value=1, max_value=2**62),
    event=st.integers(min_value=1000, max_value=6999),
    target_type=st.text(),
    target_id=st.text(),
    reason=st.text(),
    details=st.dictionaries(st.text(max_size=8), json_values, max_size=5),
)
def test_sealed_text_is_the_canonical_json_of_the_sealed_fields(
    seq, created, actor_id, event, target_type, target_id, reason, details
):
    fields = {
        "seq": seq,
        "created": chain.format_time(created),
        "actor_id": actor_id,
        "event": event,
        "target_type": target_type,
        "target_id": target_id,
        "reason": reason,
        "details": details,
        "personal_digest": "ab" * 32,
    }
    text = chain.sealed_text(**{**fields, "created": created})
    assert text == json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@given(
    label=st.text(),
    ip=st.none() | st.ip_addresses().map(str),
    personal=st.none() | st.dictionaries(st.text(max_size=8), json_values, max_size=4),
)
def test_the_personal_digest_covers_the_canonical_json_of_the_personal_columns(label, ip, personal):
    salt = "5a" * 16
    fields = {"actor_label": label, "ip_address": ip, "personal_details": personal}
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = hashlib.sha256((salt + "\n" + text).encode()).hexdigest()
    assert chain.personal_digest(salt, actor_label=label, ip_address=ip, personal=personal) == (
        expected
    )
