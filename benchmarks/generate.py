"""Synthetic data for the benchmarks: agencies, users with memberships, and audit events made the
way production makes them (model saves through the audit signals, each event chained by hash)."""

import random

from django.contrib.auth import get_user_model
from django.db import transaction

from qgov import services
from qgov.audit import audit_context
from qgov.choices import AgencySectorChoices, AuditSourceChoices, RoleChoices
from qgov.models import Agency, AuditEvent, Membership

ROLES = [RoleChoices.VIEWER, RoleChoices.EDITOR, RoleChoices.AUDITOR, RoleChoices.ADMIN]
SECTORS = list(AgencySectorChoices.values)
BATCH = 500


def generate(*, events: int, seed: int = 1) -> dict:
    """Create about `events` audit events: events/100 agencies, events/10 users each with one
    membership, one admin who is a member of every agency (admins see members and the audit
    trail), then agency updates up to `events`. Returns counts and the admin's API key."""
    rng = random.Random(seed)
    user_model = get_user_model()
    n_agencies = max(5, events // 100)
    n_users = max(10, events // 10)

    with audit_context(source=AuditSourceChoices.COMMAND, label="benchmark"):
        with transaction.atomic():
            agencies = [
                Agency.objects.create(
                    name=f"Benchmark agency {i:05d}", code=f"BENCH-{i:05d}", sector=rng.choice(SECTORS),
                    description="Synthetic agency for the benchmarks.",
                )
                for i in range(n_agencies)
            ]
            admin = user_model(username="bench-admin", email="bench-admin@example.org")
            admin.set_unusable_password()
            admin.save()
            for agency in agencies:
                Membership.objects.create(agency=agency, user=admin, role=RoleChoices.ADMIN)

        for start in range(0, n_users, BATCH):
            with transaction.atomic():
                for i in range(start, min(start + BATCH, n_users)):
                    user = user_model(username=f"bench-user-{i:06d}", email=f"bench-user-{i:06d}@example.org")
                    user.set_unusable_password()
                    user.save()
                    Membership.objects.create(agency=rng.choice(agencies), user=user, role=rng.choice(ROLES))

        revision = 0
        while AuditEvent.objects.count() < events:
            remaining = events - AuditEvent.objects.count()
            with transaction.atomic():
                for _ in range(min(BATCH, remaining)):
                    revision += 1
                    agency = rng.choice(agencies)
                    agency.description = f"Synthetic agency for the benchmarks, revision {revision}."
                    agency.save()

    _token, key = services.token_issue(user=admin, name="benchmark")
    return {
        "agencies": n_agencies,
        "users": n_users + 1,
        "memberships": Membership.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "api_key": key,
    }
