from django.core.management.base import BaseCommand
from django.db import connection, transaction

from qgov.identity.crypto import reseal
from qgov.models import IdentityProvider


class Command(BaseCommand):
    help = (
        "Re-seal every identity provider's client secret with the first of QGOV_IDENTITY_SECRET_KEYS, after a new "
        "key was put first; then the old key can be removed. The secrets are not changed, so nothing is audited."
    )

    def handle(self, *args, **options):
        table = IdentityProvider._meta.db_table
        count = 0
        # The column as stored: each secret is re-sealed without being read in clear.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT id, client_secret FROM {table} WHERE client_secret <> '' FOR UPDATE"  # noqa: S608
                           if connection.features.has_select_for_update else
                           f"SELECT id, client_secret FROM {table} WHERE client_secret <> ''")  # noqa: S608
            for pk, sealed in cursor.fetchall():
                cursor.execute(f"UPDATE {table} SET client_secret = %s WHERE id = %s", [reseal(sealed), pk])  # noqa: S608
                count += 1
        self.stdout.write(f"{count} client secrets re-sealed with the current key.")
