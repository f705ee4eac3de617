"""The signed certificate: digests of the report and its evidence, and an Ed25519 signature of them.

A digest proves nothing on its own (whoever edits a report can recompute it); the signature does,
for as long as the private key stays private. A key made for the run proves the report was not
changed after signing, not who signed it: identity needs a key the retailer already knows.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "Ed25519"
CANONICALIZATION = (
    "JSON of the document without its signature block, as Python's json.dumps(sort_keys=True, "
    "separators=(',', ':'), ensure_ascii=False) writes it: keys sorted by code point, no insignificant "
    "whitespace, non-ASCII characters as themselves, numbers as Python writes them (12.0, 1e-07), UTF-8"
)
SIGNS = "the ASCII bytes of signature.digest, as written ('sha256:' and 64 lowercase hex digits)"
EVIDENCE = "each check's evidence_digests[i] is the sha256 of its evidence[i], canonicalised the same way"
RUN_KEY = "made for this run: it proves the report was not changed after signing, not who signed it"
GIVEN_KEY = "given with --signing-key: it proves the report was signed by whoever holds that key"
SIGNATURE_FIELDS = ("algorithm", "publicKey", "keyFingerprint", "digest", "value")


class NotACertificate(ValueError):
    """The file is not a certificate this harness writes: not JSON, or no signature block or checks."""


def canonical(value: Any) -> bytes:
    """The bytes a digest is taken of: see CANONICALIZATION."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def digest(value: Any) -> str:
    return "sha256:" + hashlib.sha256(canonical(value)).hexdigest()


def run_key() -> Ed25519PrivateKey:
    """A key for this run only, from the OS's random source (never from the run's seed)."""
    return Ed25519PrivateKey.generate()


def raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    """The sha256 of the raw 32-byte public key, in hex; people compare its first 16 digits."""
    return hashlib.sha256(raw(key)).hexdigest()


def short(fingerprint_hex: str) -> str:
    return fingerprint_hex[:16]


def seal(document: dict[str, Any], key: Ed25519PrivateKey, made_for_run: bool) -> dict[str, Any]:
    """The document with its evidence digests, how they are made, and a signature block."""
    # Through JSON and back: what is digested is exactly what a reader of the written file parses.
    sealed: dict[str, Any] = json.loads(json.dumps({k: v for k, v in document.items() if k != "signature"}))
    for check in sealed.get("checks", []):
        check["evidence_digests"] = [digest(item) for item in check.get("evidence", [])]
    sealed["integrity"] = {
        "canonicalization": CANONICALIZATION,
        "evidence": EVIDENCE,
        "signs": SIGNS,
        "key": RUN_KEY if made_for_run else GIVEN_KEY,
    }
    content = digest(sealed)
    public = key.public_key()
    sealed["signature"] = {
        "algorithm": ALGORITHM,
        "publicKey": base64.b64encode(raw(public)).decode("ascii"),
        "keyFingerprint": fingerprint(public),
        "digest": content,
        "value": base64.b64encode(key.sign(content.encode("ascii"))).decode("ascii"),
    }
    return sealed


def parse(text: str) -> dict[str, Any]:
    """A certificate file's JSON; a key written twice is refused, as a reader might see the other value."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise NotACertificate(f"the key {repeated[0]!r} is written twice")
        return dict(pairs)

    try:
        document = json.loads(text, object_pairs_hook=unique)
    except json.JSONDecodeError as exc:
        raise NotACertificate(f"not JSON ({exc.msg}, line {exc.lineno})") from None
    block = document.get("signature") if isinstance(document, dict) else None
    if not isinstance(block, dict) or not all(isinstance(block.get(f), str) for f in SIGNATURE_FIELDS):
        raise NotACertificate(f"no signature block with {', '.join(SIGNATURE_FIELDS)}")
    if not isinstance(document.get("checks"), list) or not all(isinstance(c, dict) for c in document["checks"]):
        raise NotACertificate("no list of checks")
    return document


def verify(document: dict[str, Any], expected: Ed25519PublicKey | None = None) -> list[str]:
    """What does not match, each named; an empty list means the certificate is intact."""
    block = document["signature"]
    problems = _evidence(document["checks"])
    content = digest({k: v for k, v in document.items() if k != "signature"})
    if content != block["digest"]:
        problems.append(f"the document digest: the content hashes to {content}, the signature says {block['digest']}")
    unsigned = sorted(set(block) - set(SIGNATURE_FIELDS))
    if unsigned:  # nothing outside the signed content may ride along looking as if it were signed
        problems.append(f"the signature block holds fields no signature covers: {', '.join(unsigned)}")
    problems += _key(block, expected)
    problems += _signature(block)
    return problems


def _evidence(checks: list[dict[str, Any]]) -> list[str]:
    problems = []
    for n, check in enumerate(checks):
        name = check.get("id", f"check {n}")
        items, digests = check.get("evidence", []), check.get("evidence_digests", [])
        if not isinstance(items, list) or not isinstance(digests, list) or len(items) != len(digests):
            problems.append(f"{name}: its evidence items and evidence_digests (/checks/{n}) differ in number")
            continue
        for i, (item, stated) in enumerate(zip(items, digests, strict=True)):
            if digest(item) != stated:
                problems.append(f"{name} evidence item {i + 1} (/checks/{n}/evidence/{i}) does not match its digest")
    return problems


def _key(block: dict[str, Any], expected: Ed25519PublicKey | None) -> list[str]:
    if block["algorithm"] != ALGORITHM:
        return [f"the signature's algorithm is {block['algorithm']!r}, not {ALGORITHM}"]
    public = _public(block)
    if public is None:
        return ["the key: publicKey is not a base64 raw 32-byte Ed25519 public key"]
    problems = []
    if fingerprint(public) != block["keyFingerprint"]:
        problems.append("the key fingerprint: it is not the sha256 of the public key beside it")
    if expected is not None and raw(expected) != raw(public):
        problems.append(
            f"the key: signed by key {short(fingerprint(public))}, not by the given key {short(fingerprint(expected))}"
        )
    return problems


def _signature(block: dict[str, Any]) -> list[str]:
    public = _public(block)
    if block["algorithm"] != ALGORITHM or public is None:
        return ["the signature: it cannot be checked without an Ed25519 public key"]
    try:
        public.verify(base64.b64decode(block["value"], validate=True), block["digest"].encode("utf-8"))
    except (InvalidSignature, ValueError):
        return ["the signature: it does not sign this digest with this key"]
    return []


def _public(block: dict[str, Any]) -> Ed25519PublicKey | None:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(block["publicKey"], validate=True))
    except ValueError:
        return None


def load_private(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PEM PKCS8 file; the error never quotes the file."""
    key = _read(path, lambda data: serialization.load_pem_private_key(data, password=None))
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("it is a PEM private key, but not an Ed25519 one")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file."""
    key = _read(path, serialization.load_pem_public_key)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("it is a PEM public key, but not an Ed25519 one")
    return key


def _read(path: Path, loader: Callable[[bytes], object]) -> object:
    try:
        return loader(path.read_bytes())
    except OSError as exc:
        raise ValueError(f"cannot read it ({exc.strerror})") from None
    except (ValueError, TypeError, UnsupportedAlgorithm):  # their messages may describe the content: not shown
        raise ValueError("it is not a PEM key (an encrypted one is not taken either)") from None


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
