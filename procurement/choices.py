from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class CriticalityChoices(models.TextChoices):
    """How much the agency's quantum estate depends on a supplier."""

    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class SupplierStatusChoices(models.TextChoices):
    CANDIDATE = "candidate", _("Candidate")
    APPROVED = "approved", _("Approved")
    CONDITIONAL = "conditional", _("Approved with conditions")
    SUSPENDED = "suspended", _("Suspended")
    EXITED = "exited", _("Exited")


class AnswerChoices(models.TextChoices):
    """How well a supplier answered a question; scored 0, 1 or 2 (reference §5)."""

    UNKNOWN = "unknown", _("Unknown")
    PARTIAL = "partial", _("Partial")
    EVIDENCED = "evidenced", _("Evidenced")


ANSWER_POINTS = {AnswerChoices.UNKNOWN: 0, AnswerChoices.PARTIAL: 1, AnswerChoices.EVIDENCED: 2}


class ReviewStatusChoices(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent to supplier")
    ANSWERED = "answered", _("Answered")
    SUBMITTED = "submitted", _("Submitted")
    SUPERSEDED = "superseded", _("Superseded")


class ReviewOutcomeChoices(models.TextChoices):
    """What the score (and the escalation rule) says of the supplier."""

    APPROVE = "approve", _("Approve")
    CONDITIONAL = "conditional", _("Approve with conditions")
    REJECT = "reject", _("Reject")
    ESCALATE = "escalate", _("Escalate")


class PortalLinkStatusChoices(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUBMITTED = "submitted", _("Used")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


class AuthenticityResultChoices(models.TextChoices):
    NOT_CHECKED = "not_checked", _("Not checked")
    VERIFIED = "verified", _("Verified")
    FAILED = "failed", _("Failed")


class CryptoAssetTypeChoices(models.TextChoices):
    """CycloneDX 1.6 `cryptoProperties.assetType`."""

    ALGORITHM = "algorithm", _("Algorithm")
    CERTIFICATE = "certificate", _("Certificate")
    PROTOCOL = "protocol", _("Protocol")
    RELATED_CRYPTO_MATERIAL = "related-crypto-material", _("Related crypto material")


class CryptoPrimitiveChoices(models.TextChoices):
    """CycloneDX 1.6 `algorithmProperties.primitive`."""

    DRBG = "drbg", _("Deterministic random bit generator")
    MAC = "mac", _("Message authentication code")
    BLOCK_CIPHER = "block-cipher", _("Block cipher")
    STREAM_CIPHER = "stream-cipher", _("Stream cipher")
    SIGNATURE = "signature", _("Signature")
    HASH = "hash", _("Hash function")
    PKE = "pke", _("Public-key encryption")
    XOF = "xof", _("Extendable-output function")
    KDF = "kdf", _("Key derivation function")
    KEY_AGREE = "key-agree", _("Key agreement")
    KEM = "kem", _("Key encapsulation mechanism")
    AE = "ae", _("Authenticated encryption")
    COMBINER = "combiner", _("Combiner")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class KeyStateChoices(models.TextChoices):
    """CycloneDX 1.6 `relatedCryptoMaterialProperties.state` (NIST SP 800-57 key states)."""

    PRE_ACTIVATION = "pre-activation", _("Pre-activation")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    DEACTIVATED = "deactivated", _("Deactivated")
    COMPROMISED = "compromised", _("Compromised")
    DESTROYED = "destroyed", _("Destroyed")


class ContractStatusChoices(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    UNDER_REEVALUATION = "under_reevaluation", _("Under re-evaluation")
    RENEWED = "renewed", _("Renewed")
    EXITING = "exiting", _("Exiting")
    ENDED = "ended", _("Ended")


@dataclass(frozen=True)
class AlgorithmFamily:
    """A family of algorithms as CBOMs and products name them. `pattern` is a regular expression
    matched at the start of a word of the name once it is upper-cased and its separators dropped
    (so "ML-KEM-768", "ml_kem768" and "MLKEM768" read alike; see services.algorithm_families)."""

    name: str
    pattern: str
    note: str


# Families a cryptographically relevant quantum computer breaks (Shor's algorithm: integer
# factoring, finite-field and elliptic-curve discrete logarithms, pairings). A component named by
# one of them, and by no post-quantum family, is quantum-vulnerable whatever level it states.
QUANTUM_VULNERABLE_FAMILIES = (
    AlgorithmFamily("RSA", r"RSA",
                    "Integer factoring: RSA-2048, RSA-OAEP, RSASSA-PSS, RSAES-PKCS1, sha256WithRSAEncryption."),
    AlgorithmFamily("DSA", r"DSA",
                    "Finite-field discrete logarithm (FIPS 186 DSA). ML-DSA, SLH-DSA and FN-DSA are "
                    "post-quantum and read as such first."),
    AlgorithmFamily("Diffie-Hellman and MQV", r"FF(?:DH|MQV)|DH|MQV|DIFFIEHELLMAN",
                    "Finite-field discrete logarithm: DH, DHE, FFDH(E), FFMQV, DHKEM, "
                    "diffie-hellman-group14."),
    AlgorithmFamily("ElGamal", r"ELGAMAL", "Discrete logarithm (EC-ElGamal is read as an EC scheme)."),
    # "EC" alone, or followed by what makes it an elliptic-curve scheme; not any word that starts
    # with the letters (ECB is a block-cipher mode).
    AlgorithmFamily("Elliptic-curve schemes",
                    r"EC(?:C|DSA|DH|MQV|IES|NR|KCDSA|GDSA|SDSA|SCHNORR|QV|ELGAMAL|(?:PUBLIC|PRIVATE)?KEY|P(?=\d))"
                    r"|EC(?![A-Z])",
                    "Elliptic-curve discrete logarithm: ECC, ECDSA, ECDH(E), ECIES, ECMQV, EC-ElGamal, "
                    "EC-KCDSA, ECGDSA, id-ecPublicKey, EC P-256."),
    AlgorithmFamily("EdDSA", r"EDDSA|ED(?:25519|448)", "Edwards-curve signatures: EdDSA, Ed25519(ph), Ed448."),
    AlgorithmFamily("X25519 and X448", r"X(?:25519|448)", "Montgomery-curve key agreement (RFC 7748)."),
    AlgorithmFamily("Named elliptic curves",
                    r"SEC[PT]\d+[RK]\d|PRIME\d+V\d|BRAINPOOL[PT]\d+[RT]1|(?:NIST)?P(?:192|224|256|384|521)"
                    r"|[BK](?:163|233|283|409|571)|CURVE\d+|FRP256V1",
                    "A curve names an elliptic-curve scheme: secp256r1, secp256k1, prime256v1, P-256, "
                    "nistp384, brainpoolP256r1, B-233, K-283, Curve25519, Curve448, FRP256v1."),
    AlgorithmFamily("SM2 and SM9", r"SM[29]", "Chinese elliptic-curve (SM2) and pairing (SM9) schemes."),
    AlgorithmFamily("GOST R 34.10", r"GOSTR?3410", "Russian elliptic-curve signatures."),
    AlgorithmFamily("Pairing-based", r"BLS|BN\d{3}", "BLS signatures and pairing curves (BLS12-381, BN254)."),
    AlgorithmFamily("Discrete-logarithm PAKEs and X3DH", r"SRP|JPAKE|SPAKE2|OPAQUE|X3DH",
                    "SRP-6a, J-PAKE, SPAKE2(+), OPAQUE-3DH and X3DH run on (EC) Diffie-Hellman."),
)

# Post-quantum families. A name with one of them is not quantum-vulnerable, also when it names a
# classical part too: a hybrid (X25519MLKEM768, SecP256r1MLKEM768, X25519Kyber768Draft00, composite
# ML-DSA-65 + ECDSA-P256 signatures) holds as long as either part does. Whether the hybrid is put
# together right (no classical-only fallback, a sound combiner) is a separate risk (PQC migration,
# "hybrid misconfiguration"), judged on the component, not on its name.
POST_QUANTUM_FAMILIES = (
    AlgorithmFamily("ML-KEM", r"MLKEM|KYBER", "FIPS 203 (CRYSTALS-Kyber)."),
    AlgorithmFamily("ML-DSA", r"(?:HASH)?MLDSA|DILITHIUM", "FIPS 204 (CRYSTALS-Dilithium), HashML-DSA."),
    AlgorithmFamily("SLH-DSA", r"(?:HASH)?SLHDSA|SPHINCS", "FIPS 205 (SPHINCS+), HashSLH-DSA."),
    AlgorithmFamily("FN-DSA", r"FNDSA|FALCON", "Falcon, to be FIPS 206."),
    AlgorithmFamily("LMS and HSS", r"LMS|LMOTS|HSS", "Stateful hash-based signatures (SP 800-208)."),
    AlgorithmFamily("XMSS", r"XMSS|WOTS", "Stateful hash-based signatures (SP 800-208, RFC 8391), XMSS^MT."),
    AlgorithmFamily("HQC", r"HQC", "Code-based KEM NIST selected in March 2025 as a second KEM."),
    AlgorithmFamily("Other post-quantum KEMs", r"FRODO|CLASSICMCELIECE|MCELIECE|BIKE|S?NTRU",
                    "FrodoKEM, Classic McEliece, BIKE, NTRU and sntrup761 (OpenSSH)."),
)


# How often a supplier's due diligence is repeated, by criticality (months from submission).
REVIEW_INTERVAL_MONTHS = {
    CriticalityChoices.CRITICAL: 12,
    CriticalityChoices.HIGH: 12,
    CriticalityChoices.MEDIUM: 24,
    CriticalityChoices.LOW: 36,
}


class OpenInterfaceChoices(models.TextChoices):
    """Open interfaces a contract may commit the supplier to: standard interfaces keep the agency
    free to mix vendors and to leave one (ETSI GS QKD 004/014/015/018, ITU-T Y.3800 series)."""

    ETSI_QKD_004 = "ETSI GS QKD 004", _("ETSI GS QKD 004 (application interface)")
    ETSI_QKD_014 = "ETSI GS QKD 014", _("ETSI GS QKD 014 (REST key delivery API)")
    ETSI_QKD_015 = "ETSI GS QKD 015", _("ETSI GS QKD 015 (control interface for SDN)")
    ETSI_QKD_018 = "ETSI GS QKD 018", _("ETSI GS QKD 018 (orchestration interface for SDN)")
    ITU_T_Y3800 = "ITU-T Y.3800 series", _("ITU-T Y.3800 series (QKD network framework and interfaces)")
    OTHER = "other", _("Other (named in the notes)")
