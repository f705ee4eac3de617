"""The signed certificate: what is sealed verifies, and any edit after signing is named."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from scenarios.certify.certificate import NotACertificate, fingerprint, parse, run_key, seal, short, verify


def document() -> dict[str, Any]:
    check = {"id": "PAGING-01", "title": "every product once", "severity": "mandatory", "rules": ["PAGING-R1"]}
    return {
        "report": "Supplier API v1 certification",
        "verdict": "NOT CERTIFIED",
        "checks": [
            {**check, "verdict": "failed", "message": "totalItems is 61, the pages hold 60", "evidence": [
                {"request": {"method": "GET", "path": "/products?page=1"}, "answer": {"status": 200, "note": "søk"}},
                {"request": {"method": "GET", "path": "/products?page=2"}, "answer": {"status": 200}},
            ]},
            {**check, "id": "AUTH-01", "verdict": "passed", "message": "", "evidence": []},
        ],
    }  # fmt: skip


def written(key=None) -> str:
    """The sealed document as the report writes it, to edit as an attacker would: as text."""
    return json.dumps(seal(document(), key or run_key(), made_for_run=key is None), indent=2)


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_a_sealed_document_verifies_as_written() -> None:
    sealed = parse(written())
    assert verify(sealed) == []
    assert [len(c["evidence_digests"]) for c in sealed["checks"]] == [2, 0]
    assert sealed["signature"]["algorithm"] == "Ed25519" and sealed["signature"]["digest"].startswith("sha256:")
    assert "separators=(',', ':')" in sealed["integrity"]["canonicalization"]


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ('"verdict": "failed"', '"verdict": "fajled"', ["the document digest"]),
        ("the pages hold 60", "the pages hold 61", ["the document digest"]),
        ("products?page=2", "products?page=3", ["PAGING-01 evidence item 2 (/checks/0/evidence/1)", "document digest"]),
        ("s\\u00f8k", "s\\u00f9k", ["PAGING-01 evidence item 1 (/checks/0/evidence/0)", "document digest"]),
    ],
    ids=["verdict", "message", "evidence", "evidence-non-ascii"],
)
def test_an_edit_of_one_character_fails_verify_naming_what(old: str, new: str, named: list[str]) -> None:
    problems = verify(parse(edit(written(), old, new)))
    assert len(problems) == len(named)
    for problem, name in zip(problems, named, strict=True):
        assert name in problem


def test_an_edited_digest_fails_both_the_document_digest_and_the_signature() -> None:
    text = written()
    stated = json.loads(text)["signature"]["digest"]
    other = stated[:-1] + ("0" if stated[-1] != "0" else "1")
    problems = verify(parse(edit(text, stated, other)))
    assert [p.split(":")[0] for p in problems] == ["the document digest", "the signature"]


def test_an_edited_signature_or_fingerprint_is_named() -> None:
    text = written()
    block = json.loads(text)["signature"]
    value = block["value"]
    swapped = value[:10] + ("A" if value[10] != "A" else "B") + value[11:]
    assert [p.split(":")[0] for p in verify(parse(edit(text, value, swapped)))] == ["the signature"]
    fingerprint = block["keyFingerprint"]
    wrong = verify(parse(edit(text, fingerprint, fingerprint[::-1])))
    assert [p.split(":")[0] for p in wrong] == ["the key fingerprint"]


def test_a_document_signed_by_another_key_fails_when_the_key_is_required() -> None:
    mine, theirs = run_key(), run_key()
    sealed = parse(written(theirs))
    assert verify(sealed) == []  # intact: a key made by anyone proves integrity only
    problems = verify(sealed, mine.public_key())
    assert problems == [
        f"the key: signed by key {short(fingerprint(theirs.public_key()))}, not by the given key "
        f"{short(fingerprint(mine.public_key()))}"
    ]
    assert verify(parse(written(mine)), mine.public_key()) == []


def test_a_re_signed_document_with_a_swapped_key_fails_only_against_the_known_key() -> None:
    mine, forger = run_key(), run_key()
    forged = seal({**parse(written(mine)), "verdict": "CERTIFIED"}, forger, made_for_run=False)
    assert verify(forged) == [] and forged["verdict"] == "CERTIFIED"
    assert [p.split(":")[0] for p in verify(forged, mine.public_key())] == ["the key"]


def test_the_key_made_for_the_run_differs_between_two_runs_with_the_same_seed() -> None:
    keys = set()
    for _ in range(2):
        random.seed(7)  # the run's seed decides every choice of the suite, never its key
        sealed = json.loads(written())
        keys.add(sealed["signature"]["publicKey"])
        assert sealed["integrity"]["key"].startswith("made for this run")
    assert len(keys) == 2


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("<testsuite/>", "not JSON"),
        ("[1, 2]", "no signature block"),
        ('{"checks": [], "signature": {"algorithm": "Ed25519"}}', "no signature block"),
        (
            '{"signature": {"algorithm": "", "publicKey": "", "keyFingerprint": "", "digest": "", "value": ""}}',
            "checks",
        ),
        ('{"verdict": "FAILED", "verdict": "CERTIFIED"}', "'verdict' is written twice"),
    ],
)
def test_what_is_not_a_certificate_is_refused_as_such(text: str, why: str) -> None:
    with pytest.raises(NotACertificate, match=why):
        parse(text)


def test_a_field_added_to_the_signature_block_fails_verify_as_unsigned() -> None:
    sealed = parse(written())
    sealed["signature"]["signedBy"] = "ACME Certification Authority"
    assert verify(sealed) == ["the signature block holds fields no signature covers: signedBy"]


def test_a_header_byte_that_is_no_utf_8_is_recorded_as_a_replacement_so_the_report_can_be_sealed() -> None:
    from contracts.redaction import redact_headers

    shown = redact_headers({"X-Note": "caf\udce9"})  # as aiohttp keeps the byte 0xe9 of a Latin-1 header
    assert shown == {"X-Note": "caf\ufffd"}
    sealed = seal({**document(), "evidence": shown}, run_key(), made_for_run=True)
    assert verify(parse(json.dumps(sealed))) == []
