"""Which cryptographic components are quantum-vulnerable, family by family: names as CycloneDX CBOMs
(its cryptography registry), X.509, TLS, SSH and products spell them, whatever their case and
separators; post-quantum algorithms and hybrids are not vulnerable. And the data migration that
classifies the components saved under the earlier rule again."""

import datetime
import importlib

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from procurement import catalog
from procurement.choices import POST_QUANTUM_FAMILIES, QUANTUM_VULNERABLE_FAMILIES
from procurement.models import Component, CryptoPolicy, CryptoPolicyAdoption
from procurement.services import algorithm_families, is_quantum_vulnerable
from tests.procurement.factories import ComponentFactory, CryptoComponentFactory
from tests.risks.factories import AssetFactory

# Names of each quantum-vulnerable family (choices.QUANTUM_VULNERABLE_FAMILIES), as they are written.
VULNERABLE = {
    "RSA": ["RSA", "RSA-2048", "rsa-oaep-2048", "RSA-OAEP-SHA-256-MGF1-2048", "RSASSA-PSS", "RSA-PKCS1-1.5-SHA-256",
            "rsaEncryption", "sha256WithRSAEncryption", "ssh-rsa", "RSA-X9.31"],
    "DSA": ["DSA", "DSA-2048-SHA-256", "dsa_with_sha256"],
    "Diffie-Hellman and MQV": ["DH", "DHE", "FFDH", "FFDHE-2048", "ffdhe3072", "FFMQV", "MQV",
                               "diffie-hellman-group14-sha256", "DHKEM(P-256, HKDF-SHA256)"],
    "ElGamal": ["ElGamal", "ElGamal-2048", "elgamal"],
    "Elliptic-curve schemes": ["EC", "ECC", "ecc-256", "ECDSA", "ECDSA-P256-SHA-256", "ecdsa-with-SHA384",
                               "SHA384withECDSA", "ECDH", "ECDHE", "ECDH-P256", "ecdh_x25519", "ECIES",
                               "ECIES-P256-HKDF-SHA256-AES-128-GCM", "ECMQV", "EC-ElGamal", "EC-KCDSA", "ECGDSA",
                               "ECCSI", "id-ecPublicKey", "EC P-256", "ec_key"],
    "EdDSA": ["EdDSA", "Ed25519", "ed25519", "Ed25519ph", "Ed448", "ED448", "ssh-ed25519"],
    "X25519 and X448": ["X25519", "x25519", "X448", "x448"],
    "Named elliptic curves": ["secp256r1", "SECP384R1", "secp521r1", "secp256k1", "sect283k1", "prime256v1", "P-256",
                              "P-384", "p384", "P-521", "nistp256", "brainpoolP256r1", "BrainpoolP384r1",
                              "brainpoolP512t1", "B-233", "K-283", "Curve25519", "curve448", "curve25519-sha256",
                              "FRP256v1"],
    "SM2 and SM9": ["SM2", "sm2-256", "SM2-ENC", "SM9-SIG"],
    "GOST R 34.10": ["GOST R 34.10-2012", "GOSTR3410", "gost3410"],
    "Pairing-based": ["BLS", "BLS12-381", "bls12_381", "BN254"],
    "Discrete-logarithm PAKEs and X3DH": ["SRP-6a", "J-PAKE", "SPAKE2+", "OPAQUE-3DH", "X3DH"],
}

# Names of each post-quantum family (choices.POST_QUANTUM_FAMILIES).
POST_QUANTUM = {
    "ML-KEM": ["ML-KEM", "ML-KEM-512", "ML-KEM-768", "ml_kem_1024", "MLKEM768", "Kyber768", "CRYSTALS-Kyber"],
    "ML-DSA": ["ML-DSA", "ML-DSA-44", "ML-DSA-65", "ml-dsa-87", "HashML-DSA-65-SHA-512", "Dilithium3"],
    "SLH-DSA": ["SLH-DSA", "SLH-DSA-SHA2-128s", "SLH-DSA-SHAKE-256f", "HashSLH-DSA-SHA2-192s", "SPHINCS+-SHA2-128f"],
    "FN-DSA": ["FN-DSA-512", "Falcon-1024"],
    "LMS and HSS": ["LMS", "LMS_SHA256_M32_H10", "LMOTS_SHA256_N32_W8", "HSS-LMS"],
    "XMSS": ["XMSS", "XMSS-SHA2_10_256", "XMSSMT-SHA2_20/2_256", "WOTSP-SHA2_256"],
    "HQC": ["HQC", "HQC-128", "hqc-256"],
    "Other post-quantum KEMs": ["FrodoKEM-640-AES", "Classic-McEliece-348864", "BIKE-L1", "sntrup761"],
}

# Symmetric and hash algorithms: Grover at most halves their strength, nothing Shor breaks. Some
# start with letters a vulnerable family starts with (ECB, DES, Keccak holds "ECC").
SYMMETRIC = ["AES", "AES-128-GCM", "AES-256-GCM", "aes256-ctr", "AES-256-ECB", "ECB", "AES-256-KW", "ChaCha20-Poly1305",
             "SHA-256", "SHA-384", "SHA-512/256", "SHA3-256", "SHA3-512", "SHAKE256", "Keccak", "HMAC-SHA-256",
             "HKDF-SHA256", "KMAC256", "CMAC-AES", "PBKDF2-SHA256", "Argon2id", "SM3", "SM4-GCM", "3DES", "DES",
             "Camellia-256", "BLAKE2b-512", "CTR_DRBG-AES-256", "Hash_DRBG", "TLS_AES_256_GCM_SHA384", ""]

# A classical and a post-quantum part: secure while either part is, so not vulnerable as a whole.
HYBRIDS = {
    "X25519MLKEM768": ("X25519 and X448", "ML-KEM"),
    "x25519_mlkem768": ("X25519 and X448", "ML-KEM"),
    "X25519Kyber768Draft00": ("X25519 and X448", "ML-KEM"),
    "SecP256r1MLKEM768": ("Named elliptic curves", "ML-KEM"),
    "SecP384r1MLKEM1024": ("Named elliptic curves", "ML-KEM"),
    "p256_kyber768": ("Named elliptic curves", "ML-KEM"),
    "mlkem768x25519-sha256": ("X25519 and X448", "ML-KEM"),
    "sntrup761x25519-sha512@openssh.com": ("X25519 and X448", "Other post-quantum KEMs"),
    "MLDSA65-ECDSA-P256-SHA512": ("Elliptic-curve schemes", "ML-DSA"),
    "id-MLDSA44-RSA2048-PSS-SHA256": ("RSA", "ML-DSA"),
    "MLDSA87-Ed448-SHAKE256": ("EdDSA", "ML-DSA"),
}


def crypto(algorithm, parameter_set="", level=None, asset_type="algorithm"):
    """An unsaved component: the classifier reads fields only."""
    return Component(crypto_asset_type=asset_type, algorithm=algorithm, parameter_set_identifier=parameter_set,
                     nist_quantum_security_level=level)


def examples(table):
    return [pytest.param(family, name, id=name) for family, names in table.items() for name in names]


def test_every_family_is_exercised():
    assert set(VULNERABLE) == {family.name for family in QUANTUM_VULNERABLE_FAMILIES}
    assert set(POST_QUANTUM) == {family.name for family in POST_QUANTUM_FAMILIES}
    assert all(family.note for family in (*QUANTUM_VULNERABLE_FAMILIES, *POST_QUANTUM_FAMILIES))


@pytest.mark.parametrize("family, name", examples(VULNERABLE))
def test_a_vulnerable_family_is_recognised_and_flagged(family, name):
    found = algorithm_families(name)
    assert family in found.vulnerable and not found.post_quantum
    assert is_quantum_vulnerable(crypto(name))  # no level stated: the name decides


@pytest.mark.parametrize("family, name", examples(POST_QUANTUM))
def test_a_post_quantum_family_is_recognised_and_not_flagged(family, name):
    found = algorithm_families(name)
    assert found.post_quantum == (family,) and not found.vulnerable
    assert not is_quantum_vulnerable(crypto(name))


@pytest.mark.parametrize("name", SYMMETRIC)
def test_symmetric_and_hash_algorithms_are_no_family_and_not_flagged(name):
    assert algorithm_families(name) == algorithm_families("")
    assert not is_quantum_vulnerable(crypto(name))


@pytest.mark.parametrize("name, parts", HYBRIDS.items(), ids=list(HYBRIDS))
def test_a_hybrid_is_not_vulnerable_as_a_whole(name, parts):
    found = algorithm_families(name)
    assert found.hybrid and (found.vulnerable[0], found.post_quantum[0]) == parts
    assert not is_quantum_vulnerable(crypto(name, level=3))
    assert not is_quantum_vulnerable(crypto(name))


@pytest.mark.parametrize("name", ["ML-KEM-768", "ml-kem-768", "ML_KEM_768", "mlkem768", "Ml Kem 768", "ML.KEM.768",
                                  "ml-KEM/768"])
def test_case_and_separators_do_not_matter(name):
    assert algorithm_families(name).post_quantum == ("ML-KEM",)


def test_the_curve_in_the_parameter_set_counts_too():
    assert is_quantum_vulnerable(crypto("JWS", parameter_set="P-384"))
    assert is_quantum_vulnerable(crypto("ECDH", parameter_set="P-384"))
    assert not is_quantum_vulnerable(crypto("ML-KEM", parameter_set="X25519"))  # a hybrid, told in two fields
    assert not is_quantum_vulnerable(crypto("AES", parameter_set="256"))


def test_a_stated_level_0_is_vulnerable_whatever_the_name():
    assert is_quantum_vulnerable(crypto("Vendor cipher", level=0))
    assert is_quantum_vulnerable(crypto("X25519MLKEM768", level=0))
    assert not is_quantum_vulnerable(crypto("Vendor cipher", level=1))


def test_only_cryptographic_assets_are_classified():
    assert not is_quantum_vulnerable(crypto("RSA-2048", level=0, asset_type=""))


# --- existing rows -----------------------------------------------------------------------------------

MIGRATION = "0003_reclassify_quantum_vulnerable_components"


@pytest.mark.django_db
def test_the_migration_classifies_the_rows_saved_under_the_earlier_rule_again(agency, other_agency):
    catalog.load()
    CryptoPolicyAdoption.objects.create(agency=other_agency, policy=CryptoPolicy.objects.get(code="CNSA-2.0"),
                                        adopted_on=datetime.date(2026, 1, 1))
    missed = {  # what the earlier rule missed, with the deadline the agency's policy gives it
        CryptoComponentFactory(agency=agency, algorithm="ECC", parameter_set_identifier="P-256", primitive="pke",
                               classical_security_level=128, nist_quantum_security_level=None):
            datetime.date(2035, 12, 31),
        CryptoComponentFactory(agency=agency, algorithm="secp256r1", parameter_set_identifier="", primitive="key-agree",
                               classical_security_level=None, nist_quantum_security_level=None,
                               asset=AssetFactory(agency=agency)): datetime.date(2035, 12, 31),
        CryptoComponentFactory(agency=other_agency, algorithm="SM2", parameter_set_identifier="256",
                               primitive="signature", classical_security_level=128, nist_quantum_security_level=None):
            datetime.date(2030, 12, 31),  # CNSA 2.0: signatures by 2030
    }
    hybrid = CryptoComponentFactory(agency=agency, algorithm="X25519MLKEM768", parameter_set_identifier="",
                                    primitive="kem", classical_security_level=128, nist_quantum_security_level=3)
    rsa = CryptoComponentFactory(agency=agency)  # vulnerable under both rules: left alone
    not_crypto = ComponentFactory(agency=agency, algorithm="ECC")
    for component in missed:
        Component.objects.filter(pk=component.pk).update(quantum_vulnerable=False, policy_deadline=None)
    Component.objects.filter(pk=hybrid.pk).update(quantum_vulnerable=True, policy_deadline=datetime.date(2035, 12, 31))
    Component.objects.filter(pk=rsa.pk).update(policy_deadline=datetime.date(2031, 1, 1))  # marks "not touched"

    # Run on the historical models, as `migrate` does.
    historical = MigrationLoader(connection).project_state(("procurement", MIGRATION)).apps
    importlib.import_module(f"procurement.migrations.{MIGRATION}").reclassify_components(historical, None)

    rows = dict(Component.objects.values_list("pk", "quantum_vulnerable"))
    deadlines = dict(Component.objects.values_list("pk", "policy_deadline"))
    for component, deadline in missed.items():
        assert (rows[component.pk], deadlines[component.pk]) == (True, deadline), component.algorithm
    assert (rows[hybrid.pk], deadlines[hybrid.pk]) == (False, None)
    assert (rows[rsa.pk], deadlines[rsa.pk]) == (True, datetime.date(2031, 1, 1))
    assert rows[not_crypto.pk] is False
