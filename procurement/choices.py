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


# Algorithm families broken by a cryptographically relevant quantum computer (Shor): a component
# of one of them is quantum-vulnerable whatever its stated NIST quantum security level.
QUANTUM_VULNERABLE_FAMILIES = ("RSA", "DSA", "ECDSA", "EDDSA", "ECDH", "ECMQV", "DH", "FFDH", "MQV", "X25519",
                               "X448", "ED25519", "ED448", "ELGAMAL")


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
