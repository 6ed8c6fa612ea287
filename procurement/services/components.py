"""Components: quantum-vulnerable cryptography, the agency's migration policy and its deadlines, and
links to register risks."""

import contextlib
import contextvars
import re
from dataclasses import dataclass

from django.db import transaction

from procurement.choices import (
    POST_QUANTUM_FAMILIES,
    QUANTUM_VULNERABLE_FAMILIES,
)


@dataclass(frozen=True)
class AlgorithmFamilies:
    """The families an algorithm's name belongs to (choices.QUANTUM_VULNERABLE_FAMILIES and
    choices.POST_QUANTUM_FAMILIES), by name, in the order the name gives them."""

    vulnerable: tuple[str, ...] = ()
    post_quantum: tuple[str, ...] = ()

    @property
    def hybrid(self) -> bool:
        return bool(self.vulnerable and self.post_quantum)

    def __add__(self, other):
        return AlgorithmFamilies(self.vulnerable + other.vulnerable, self.post_quantum + other.post_quantum)


# One pattern of named groups, post-quantum families first: "SLH-DSA" is read as SLH-DSA before
# its letters "DSA" could be.
_FAMILY_GROUPS = {f"family{index}": (family, kind) for index, (family, kind) in enumerate(
    [(family, "post_quantum") for family in POST_QUANTUM_FAMILIES]
    + [(family, "vulnerable") for family in QUANTUM_VULNERABLE_FAMILIES])}
_FAMILY_PATTERN = re.compile("|".join(f"(?P<{group}>{family.pattern})"
                                      for group, (family, _kind) in _FAMILY_GROUPS.items()))


def _name_words(name: str) -> tuple[str, list[int]]:
    """The name upper-cased without separators, and where its words start in that text: after a
    separator, at a lower-to-upper case change (sha256WithRSAEncryption) and where letters follow
    digits (X25519MLKEM768)."""
    text, starts, previous = [], [], " "
    for char in name:
        if not (char.isascii() and char.isalnum()):
            previous = " "
            continue
        if (previous == " " or (previous.islower() and char.isupper())
                or (previous.isdigit() and char.isalpha())):
            starts.append(len(text))
        text.append(char.upper())
        previous = char
    return "".join(text), starts


def algorithm_families(name: str) -> AlgorithmFamilies:
    """Which families `name` names, case and separators aside: each word of the name is matched
    against the families' patterns, and a match continues where the last one ended, so that glued
    hybrid names (X25519MLKEM768, SecP256r1MLKEM768) yield both parts. A word no family starts
    (Keccak, ECB, Draft00) is skipped, so "EC" inside another word is never read as a curve."""
    text, starts = _name_words(name or "")
    found = {"vulnerable": [], "post_quantum": []}
    at = 0 if text else None
    while at is not None:
        match = _FAMILY_PATTERN.match(text, at)
        if match:
            family, kind = _FAMILY_GROUPS[match.lastgroup]
            if family.name not in found[kind]:
                found[kind].append(family.name)
            at = match.end() if match.end() < len(text) else None
        else:
            at = next((start for start in starts if start > at), None)
    return AlgorithmFamilies(tuple(found["vulnerable"]), tuple(found["post_quantum"]))


def component_algorithm_families(component) -> AlgorithmFamilies:
    """The families of the component's algorithm and parameter set (where CBOMs often put the
    curve: algorithm "ECDH", parameter set "P-384")."""
    return algorithm_families(component.algorithm) + algorithm_families(component.parameter_set_identifier)


def is_quantum_vulnerable(component) -> bool:
    """A cryptographic asset that states NIST quantum security level 0, or whose algorithm (or
    parameter set) names a family Shor's algorithm breaks and no post-quantum family: a hybrid such
    as X25519MLKEM768 is not vulnerable as a whole. Reads only the component's fields, so the data
    migrations can call it on historical models."""
    if not component.crypto_asset_type:
        return False
    if component.nist_quantum_security_level == 0:
        return True
    families = component_algorithm_families(component)
    return bool(families.vulnerable) and not families.post_quantum


_policy_cache = contextvars.ContextVar("crypto_policy_cache", default=None)


@contextlib.contextmanager
def crypto_policy_held(agency_id):
    """Within the block, the agency's policy is read once (a bulk import saves thousands of
    components, each of which would otherwise look it up)."""
    token = _policy_cache.set(None)
    try:
        _policy_cache.set({agency_id: crypto_policy_of(agency_id)})
        yield
    finally:
        _policy_cache.reset(token)


def crypto_policy_of(agency_id):
    """The migration policy the agency adopted, or the default (NIST IR 8547)."""
    from procurement.models import DEFAULT_CRYPTO_POLICY, CryptoPolicy, CryptoPolicyAdoption

    held = _policy_cache.get()
    if held is not None and agency_id in held:
        return held[agency_id]

    adoption = CryptoPolicyAdoption.objects.select_related("policy").filter(agency_id=agency_id).first()
    if adoption is not None:
        return adoption.policy
    return CryptoPolicy.objects.filter(code=DEFAULT_CRYPTO_POLICY).first()


def component_classify(component, *, policy=None) -> None:
    """Set `quantum_vulnerable` and, for a vulnerable component, the date the agency's policy
    requires it gone (None when no policy is loaded)."""
    component.quantum_vulnerable = is_quantum_vulnerable(component)
    deadline = None
    if component.quantum_vulnerable:
        policy = policy or crypto_policy_of(component.agency_id)
        found = policy.deadline_for(component) if policy is not None else None
        deadline = found[0] if found else None
    component.policy_deadline = deadline


def policy_rule_for(component, *, policy=None) -> tuple[object, dict | None]:
    """(the agency's policy, the deadline rule that dates `component`), for showing why it has its
    deadline; the rule is None when the component is not vulnerable or no rule matches."""
    policy = policy or crypto_policy_of(component.agency_id)
    if policy is None or not component.quantum_vulnerable:
        return policy, None
    found = policy.deadline_for(component)
    if found is None:
        return policy, None
    date, label = found
    rule = next((rule for rule in policy.deadlines if rule.get("date") == date.isoformat()
                 and rule.get("label", "") == label), {"date": date.isoformat(), "label": label})
    return policy, rule


def components_reclassify(agency_id) -> int:
    """Recompute the policy deadline of every quantum-vulnerable component of the agency (after its
    policy choice changed); each changed component is saved, so audited. Joins the caller's
    transaction. Returns how many changed."""
    from procurement.models import Component

    policy = crypto_policy_of(agency_id)
    changed = 0
    for component in (Component.objects.select_for_update(of=("self",)).select_related("asset")
                      .filter(agency_id=agency_id, quantum_vulnerable=True)):
        before = component.policy_deadline
        component_classify(component, policy=policy)
        if component.policy_deadline != before:
            component.save(update_fields=["policy_deadline", "quantum_vulnerable"])
            changed += 1
    return changed


def _adoption_changed(sender, instance, **kwargs) -> None:
    # post_save / post_delete run inside the write service's transaction: the deadlines change with it.
    components_reclassify(instance.agency_id)


def connect_component_hooks() -> None:
    from django.db.models.signals import post_delete, post_save

    from procurement.models import CryptoPolicyAdoption

    post_save.connect(_adoption_changed, sender=CryptoPolicyAdoption, dispatch_uid="procurement-adoption-save")
    post_delete.connect(_adoption_changed, sender=CryptoPolicyAdoption, dispatch_uid="procurement-adoption-delete")


# --- components and register risks ---------------------------------------------------------------

@transaction.atomic
def component_risks_link(*, component, risks, user):
    """Link `risks` to the component, keeping the risks already linked: one audited update through
    the core service, which re-checks the user's right to change the component and refuses another
    agency's risk before anything is written."""
    from procurement.models import Component
    from qgov.services import object_update
    from risks.models import Risk

    # Read the linked risks under the component's lock: two people linking at once both count.
    Component.objects.select_for_update().filter(pk=component.pk).first()
    linked = list(Risk.objects.filter(components=component).only("pk", "agency_id"))
    known = {risk.pk for risk in linked}
    added = [risk for risk in risks if risk.pk not in known]
    if not added:
        return component
    return object_update(instance=component, user=user, data={"risks": [*linked, *added]})


@transaction.atomic
def component_risk_raise(*, component, user, data: dict):
    """Create a register risk for the component (`data` as the register's form or API gives it) and
    link it to the component; both or neither."""
    from qgov.services import object_create
    from risks.models import Risk

    risk = object_create(model=Risk, user=user, data=data)
    component_risks_link(component=component, risks=[risk], user=user)
    return risk
