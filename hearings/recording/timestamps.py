"""An RFC 3161 timestamp of the sealed manifest, from the TSA in ``TSA_URL`` (optional).

At sealing, the SHA-256 of the manifest's canonical bytes is sent to the TSA
(``application/timestamp-query``); its token is kept beside the manifest (``manifest.tsr``)
and in the custody log. Verification checks that the token names the manifest's hash, that
its signature holds with the certificate it carries, that the certificate may sign
timestamps, and (with ``TSA_CA_FILE``) that the court's trusted CA issued it.
"""

from __future__ import annotations

import hashlib
import secrets
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any

from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

TOKEN_FILE = "manifest.tsr"
HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512,
}  # fmt: skip


class TimestampError(Exception):
    """The TSA did not give a usable timestamp."""


def request_token(url: str, data: bytes, timeout: float = 15.0) -> bytes:
    """Ask the TSA to timestamp ``data``; the DER of its TimeStampToken."""
    digest = hashlib.sha256(data).digest()
    nonce = secrets.randbits(63)
    query = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {"hash_algorithm": {"algorithm": "sha256"},
                                "hashed_message": digest},
            "nonce": nonce,
            "cert_req": True,
        }
    )  # fmt: skip
    request = urllib.request.Request(
        url, data=query.dump(), method="POST",
        headers={"Content-Type": "application/timestamp-query"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = tsp.TimeStampResp.load(response.read())
    except (OSError, ValueError) as error:
        raise TimestampError(f"the TSA at {url} did not answer: {error}") from None
    status = answer["status"]["status"].native
    if status not in ("granted", "granted_with_mods"):
        raise TimestampError(f"the TSA refused the request ({status})")
    token = answer["time_stamp_token"]
    info = _tst_info(token)
    if info["nonce"] != nonce:
        raise TimestampError("the TSA's answer carries another nonce")
    if info["message_imprint"]["hashed_message"] != digest:
        raise TimestampError("the TSA timestamped another hash")
    return bytes(token.dump())


def _tst_info(token: cms.ContentInfo) -> dict[str, Any]:
    return dict(token["content"]["encap_content_info"]["content"].parsed.native)


def describe(token_der: bytes) -> dict[str, Any]:
    """What the custody log keeps of a token: when, which serial, from whom, its hash."""
    parsed = cms.ContentInfo.load(token_der)["content"]["encap_content_info"]["content"].parsed
    gen_time: datetime = parsed["gen_time"].native
    tsa = parsed["tsa"]
    named = tsa.chosen if tsa.native is not None else None
    return {
        "gen_time": gen_time.isoformat(),
        "serial": str(parsed["serial_number"].native),
        "policy": parsed["policy"].native,
        "tsa": getattr(named, "human_friendly", None),
        "token_sha256": hashlib.sha256(token_der).hexdigest(),
    }


def token_faults(token_der: bytes, data: bytes, ca_pem: bytes | None) -> list[dict[str, Any]]:
    """Why the token does not timestamp ``data`` (empty if it does)."""
    try:
        token = cms.ContentInfo.load(token_der)
        signed = token["content"]
        info = _tst_info(token)
        algorithm = info["message_imprint"]["hash_algorithm"]["algorithm"]
        imprint = info["message_imprint"]["hashed_message"]
    except (ValueError, KeyError, TypeError) as error:
        return [_fault("timestamp-unreadable", f"the timestamp token can't be read: {error}")]
    if algorithm not in HASHES or imprint != _digest(algorithm, data):
        return [_fault("timestamp-imprint", "the timestamp is of another manifest")]
    try:
        certificate = _verify_signature(signed)
        usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (InvalidSignature, ValueError, KeyError, StopIteration) as error:
        return [_fault("timestamp-signature", f"the timestamp's signature does not hold: "
                                              f"{str(error) or type(error).__name__}")]  # fmt: skip
    except x509.ExtensionNotFound:
        usage = x509.ExtendedKeyUsage([])
    if ExtendedKeyUsageOID.TIME_STAMPING not in usage:
        return [_fault("timestamp-untrusted", "the signing certificate may not sign timestamps")]
    if ca_pem is not None and not _issued_by_any(certificate, ca_pem):
        return [_fault("timestamp-untrusted",
                       f"the TSA certificate ({certificate.subject.rfc4514_string()}) was not "
                       "issued by a configured CA (TSA_CA_FILE)")]  # fmt: skip
    return []


def _fault(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "message": message}


def _digest(algorithm: str, data: bytes) -> bytes:
    return hashlib.new(algorithm, data).digest()


def _verify_signature(signed: cms.SignedData) -> x509.Certificate:
    """Check the signer's signature over the signed attributes, and that those name the
    TSTInfo's digest; the signer's certificate."""
    signer = signed["signer_infos"][0]
    content = signed["encap_content_info"]["content"].contents
    algorithm = signer["digest_algorithm"]["algorithm"].native
    attributes = {a["type"].native: a["values"][0].native for a in signer["signed_attrs"]}
    if attributes.get("message_digest") != _digest(algorithm, content):
        raise ValueError("the signed attributes name another TSTInfo")
    sid = signer["sid"].chosen
    found = next(
        c.chosen for c in signed["certificates"]
        if c.name == "certificate"
        and c.chosen.serial_number == sid["serial_number"].native
        and c.chosen.issuer == sid["issuer"]
    )  # fmt: skip
    certificate = x509.load_der_x509_certificate(found.dump())
    # The signature covers the attributes DER-encoded as a SET OF (RFC 5652 §5.4).
    signed_bytes = b"\x31" + signer["signed_attrs"].dump()[1:]
    signature = signer["signature"].native
    digest = HASHES[algorithm]()
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, signed_bytes, padding.PKCS1v15(), digest)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, signed_bytes, ec.ECDSA(digest))
    else:
        raise ValueError(f"unsupported TSA key {type(key).__name__}")
    return certificate


def _issued_by_any(certificate: x509.Certificate, ca_pem: bytes) -> bool:
    for authority in x509.load_pem_x509_certificates(ca_pem):
        try:
            certificate.verify_directly_issued_by(authority)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return True
    return False
