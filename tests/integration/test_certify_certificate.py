"""The signed certificate of a real run: verify accepts it as written and names what was changed."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from scenarios.certify import reports
from scenarios.certify.certificate import private_pem, public_pem, short
from scenarios.certify.cli import certify as command
from scenarios.certify.reports import write_all
from tests.integration.test_certify import FAST, run


async def certified(start_sim, session, tmp_path: Path, key: Ed25519PrivateKey | None = None) -> list[Path]:
    _, collector = await run(await start_sim(FAST), session)
    return write_all(collector.document(), tmp_path, key)


def verify(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(command, ["verify", *args])


def flip(path: Path, old: str, new: str) -> None:
    """One character changed in the written file, as anyone with the file could."""
    text = path.read_text("utf-8")
    assert old in text and len(old) == len(new)
    path.write_text(text.replace(old, new, 1), "utf-8")


async def test_a_written_certificate_verifies_and_a_flipped_verdict_does_not(start_sim, session, tmp_path) -> None:
    paths = await certified(start_sim, session, tmp_path)
    signature = json.loads(paths[0].read_text())["signature"]
    intact = verify(str(paths[0]))
    assert intact.exit_code == 0, intact.output
    assert f"is intact: signed by key fingerprint {short(signature['keyFingerprint'])}" in intact.output
    assert "only a key you already know proves who signed it" in intact.output  # integrity only
    flip(paths[0], '"verdict": "passed"', '"verdict": "passet"')
    changed = verify(str(paths[0]))
    assert changed.exit_code == 1 and "the document digest" in changed.output
    assert "evidence item" not in changed.output and "is intact" not in changed.output


async def test_an_edited_evidence_item_is_named_by_its_check(start_sim, session, tmp_path) -> None:
    paths = await certified(start_sim, session, tmp_path)
    document = json.loads(paths[0].read_text())
    n, check = next((n, c) for n, c in enumerate(document["checks"]) if c["evidence"])
    document["checks"][n]["evidence"][0]["edited"] = True
    paths[0].write_text(json.dumps(document, indent=2))
    result = verify(str(paths[0]))
    assert result.exit_code == 1, result.output
    assert f"{check['id']} evidence item 1 (/checks/{n}/evidence/0) does not match its digest" in result.output


async def test_the_junit_and_html_reports_show_the_digest_the_key_the_rules_and_evidence_digests(
    start_sim, session, tmp_path
) -> None:
    paths = await certified(start_sim, session, tmp_path)
    document = json.loads(paths[0].read_text())
    signature = document["signature"]
    suite = ET.parse(paths[1]).getroot()
    properties = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    assert properties["digest"] == signature["digest"] and properties["keyFingerprint"] == signature["keyFingerprint"]
    cases = suite.findall("testcase")
    assert len(cases) == len(document["checks"])
    for case, check in zip(cases, document["checks"], strict=True):
        assert [p.get("value") for p in case.findall("properties/property[@name='rule']")] == check["rules"]
        out = case.findtext("system-out") or ""
        assert all(d in out for d in check["evidence_digests"]) and out.count("sha256:") == len(check["evidence"])
    assert any(c["evidence_digests"] for c in document["checks"])  # the run has evidence to point at
    page = paths[2].read_text()
    facts = page[page.index('<dl class="facts">') : page.index("</dl>")]
    assert signature["digest"] in facts and short(signature["keyFingerprint"]) in facts


async def test_the_private_key_never_reaches_a_report(start_sim, session, tmp_path, monkeypatch) -> None:
    made: list[Ed25519PrivateKey] = []

    def keeping() -> Ed25519PrivateKey:
        made.append(Ed25519PrivateKey.generate())
        return made[-1]

    monkeypatch.setattr(reports, "run_key", keeping)
    given = Ed25519PrivateKey.generate()
    written = await certified(start_sim, session, tmp_path / "run")
    written += write_all(json.loads(written[0].read_text()), tmp_path / "given", given)
    everything = "".join(p.read_text() for p in written)
    assert len(made) == 1
    for key in (made[0], given):
        secret = key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        pem_body = "".join(private_pem(key).decode().splitlines()[1:-1])
        for form in (secret.hex(), base64.b64encode(secret).decode(), pem_body, pem_body[20:40]):
            assert form not in everything
        assert base64.b64encode(key.public_key().public_bytes_raw()).decode() in everything


async def test_a_report_signed_with_a_keygen_key_verifies_only_against_that_key(start_sim, session, tmp_path) -> None:
    made = CliRunner().invoke(command, ["keygen", "--out", str(tmp_path / "signing.pem")])
    assert made.exit_code == 0, made.output
    assert (tmp_path / "signing.pem").stat().st_mode & 0o777 == 0o600
    assert made.stdout.startswith("-----BEGIN PUBLIC KEY")  # alone, to save with > signing.pub
    (tmp_path / "signing.pub").write_text(made.stdout)
    other = Ed25519PrivateKey.generate().public_key()
    (tmp_path / "other.pub").write_text(public_pem(other))
    key = serialization.load_pem_private_key((tmp_path / "signing.pem").read_bytes(), None)
    assert isinstance(key, Ed25519PrivateKey)
    paths = await certified(start_sim, session, tmp_path / "reports", key)
    assert json.loads(paths[0].read_text())["integrity"]["key"].startswith("given with --signing-key")
    known = verify(str(paths[0]), "--public-key", str(tmp_path / "signing.pub"))
    assert known.exit_code == 0 and "only a key you already know" not in known.output, known.output
    fingerprint = json.loads(paths[0].read_text())["signature"]["keyFingerprint"]
    assert short(fingerprint) in made.output and short(fingerprint) in known.output
    unknown = verify(str(paths[0]), "--public-key", str(tmp_path / "other.pub"))
    assert unknown.exit_code == 1 and "the key: signed by key" in unknown.output
    again = CliRunner().invoke(command, ["keygen", "--out", str(tmp_path / "signing.pem")])
    assert again.exit_code == 2 and "exists" in again.output  # a key is never overwritten


def test_signing_key_refuses_what_is_not_an_ed25519_private_key_without_quoting_it(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("my-precious-secret-words\n")
    ec_key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "ec.pem").write_bytes(
        ec_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    locked = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw")
    )
    (tmp_path / "locked.pem").write_bytes(locked)
    common = ["--supplier-url", "http://127.0.0.1:1", "--customer-number", "1", "--auth", "api-key", "--api-key", "k"]
    for name, why in (
        ("notes.txt", "not a PEM key"),
        ("ec.pem", "not an Ed25519 one"),
        ("locked.pem", "not a PEM key"),
        ("missing.pem", "cannot read it"),
    ):
        result = CliRunner().invoke(command, [*common, "--signing-key", str(tmp_path / name)])
        assert result.exit_code == 2 and "--signing-key" in result.output and why in result.output, result.output
        assert "my-precious" not in result.output and "BEGIN" not in result.output


def test_verify_says_what_is_not_a_certificate_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "report.xml").write_text("<testsuite/>")
    result = verify(str(tmp_path / "report.xml"))
    assert result.exit_code == 2 and "is not a certificate: not JSON" in result.output
    (tmp_path / "old.json").write_text(json.dumps({"report": "Supplier API v1 certification", "checks": []}))
    assert verify(str(tmp_path / "old.json")).exit_code == 2
    (tmp_path / "notes.txt").write_text("not a key")
    wrong = verify(str(tmp_path / "old.json"), "--public-key", str(tmp_path / "notes.txt"))
    assert wrong.exit_code == 2 and "--public-key" in wrong.output


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deep"),
        ('{"n": ' + "9" * 5000 + "}", "is not a certificate"),
        ('{"signature": {"algorithm": "\\ud800"}}', "is not a certificate"),
    ],
    ids=["deep", "huge-number", "lone-surrogate"],
)
def test_verify_refuses_a_hostile_file_as_no_certificate_without_a_traceback(
    tmp_path: Path, text: str, why: str
) -> None:
    hostile = tmp_path / "certification.json"
    hostile.write_text(text, "utf-8")
    result = CliRunner().invoke(command, ["verify", str(hostile)])
    assert result.exit_code == 2 and why in result.output and "Traceback" not in result.output, result.output


def test_verify_shows_a_control_character_of_the_file_escaped_not_acted_on(tmp_path: Path) -> None:
    from scenarios.certify.certificate import run_key, seal

    sealed = seal({"report": "x", "checks": []}, run_key(), made_for_run=True)
    sealed["signature"]["digest"] = "sha256:\x1b[2Kintact"
    path = tmp_path / "certification.json"
    path.write_text(json.dumps(sealed), "utf-8")
    result = CliRunner().invoke(command, ["verify", str(path)])
    assert result.exit_code == 1 and "\x1b" not in result.output and "\\x1b[2Kintact" in result.output
