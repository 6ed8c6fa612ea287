"""Existing components classified again by the family rule of this release (ECC, ECIES, named curves
such as P-256 and Curve25519, and SM2 are now quantum-vulnerable; hybrids such as X25519MLKEM768 no
longer are). The flag is stored and set only on save, so without this step the rows saved earlier
would keep the old answer until their next edit."""

from django.db import migrations

# The default when an agency adopted none (procurement.models.DEFAULT_CRYPTO_POLICY, kept here as
# it was when this migration was written).
DEFAULT_CRYPTO_POLICY = "NIST-IR-8547"


def reclassify_components(apps, schema_editor):
    """Set `quantum_vulnerable` again on every cryptographic component whose answer changes, with
    the deadline of its agency's policy (none when it is no longer vulnerable). The classifier and the
    deadline rules read fields only, so they run on the historical models. Rows are updated in place:
    no save signals, so no audit events (the migration is the record of this change)."""
    from procurement.models import deadline_rule_match
    from procurement.services import is_quantum_vulnerable

    Component = apps.get_model("procurement", "Component")
    CryptoPolicy = apps.get_model("procurement", "CryptoPolicy")
    CryptoPolicyAdoption = apps.get_model("procurement", "CryptoPolicyAdoption")
    default = CryptoPolicy.objects.filter(code=DEFAULT_CRYPTO_POLICY).first()
    adopted = {adoption.agency_id: adoption.policy
               for adoption in CryptoPolicyAdoption.objects.select_related("policy")}
    for component in (Component.objects.exclude(crypto_asset_type="").select_related("asset")
                      .order_by("pk").iterator(chunk_size=2000)):
        vulnerable = is_quantum_vulnerable(component)
        if vulnerable == component.quantum_vulnerable:
            continue
        deadline = None
        policy = adopted.get(component.agency_id, default)
        if vulnerable and policy is not None:
            found = deadline_rule_match(policy.deadlines, component)
            deadline = found[0] if found else None
        Component.objects.filter(pk=component.pk).update(quantum_vulnerable=vulnerable, policy_deadline=deadline)


class Migration(migrations.Migration):

    dependencies = [
        ('procurement', '0002_search_indexes'),
    ]

    operations = [
        # Going back leaves the rows as they are: the earlier rule is not worth restoring.
        migrations.RunPython(reclassify_components, migrations.RunPython.noop),
    ]
