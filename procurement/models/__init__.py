"""Procurement: who the agency buys from (suppliers and their due-diligence reviews, answered by the
supplier through a one-time portal link), what it bought (components, with their provenance and the
cryptography inside them, from CycloneDX SBOM/CBOM files), the contracts that bind them, and the
post-quantum migration policy that sets when quantum-vulnerable cryptography must go."""

from procurement.models.catalogs import (
           DEFAULT_CRYPTO_POLICY,
           CryptoPolicy,
           CryptoPolicyAdoption,
           Questionnaire,
           deadline_rule_match,
)
from procurement.models.common import MANAGE_CRYPTO_POLICY, add_months, clean_country
from procurement.models.components import Component
from procurement.models.contracts import LIVE_CONTRACT, Contract
from procurement.models.suppliers import DueDiligenceAnswer, DueDiligenceReview, PortalLink, Supplier

__all__ = ["Questionnaire", "CryptoPolicy", "CryptoPolicyAdoption", "Supplier", "DueDiligenceReview",
           "DueDiligenceAnswer", "PortalLink", "Component", "Contract",
           "DEFAULT_CRYPTO_POLICY", "LIVE_CONTRACT", "MANAGE_CRYPTO_POLICY", "add_months", "clean_country",
           "deadline_rule_match"]
