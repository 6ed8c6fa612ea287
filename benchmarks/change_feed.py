"""The change feed (/api/changes/) over N synthetic audit events (default 1,000,000) in 20 agencies,
on PostgreSQL: a viewer of two agencies from the start and from a cursor mid-way, with ?agency=, and
a platform admin. Writes into the database it is given; use a throwaway one:

    createdb qgov_feed_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qgov_feed_bench DJANGO_DEBUG=1 \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qgov_feed_bench DJANGO_DEBUG=1 N=1000000 \\
        .venv/bin/python -m benchmarks.change_feed

The events' transaction ids are spread over the ids the cluster has already used (tens of events per
transaction on a young cluster), so all of them are below the snapshot's xmin and served.
"""

import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qgov.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import force_authenticate  # noqa: E402

from certification.models import Device  # noqa: E402
from qgov.integrations.changes import ChangeFeedView, Position  # noqa: E402
from qgov.models import Agency, AuditEvent, Membership  # noqa: E402

N = int(os.environ.get("N", "1000000"))
INSERT = """
INSERT INTO qgov_auditevent (chain, seq, timestamp, actor_repr, agency_id, content_type_id, object_id, object_repr,
    action, before, after, changed_fields, detail, request_id, source, prev_hash, hash, key_id, txid)
SELECT 'bench:' || (g %% 20), g, now() - interval '1 second' * (%(n)s - g), 'bench', (%(agencies)s)[g %% 20 + 1],
    %(content_type)s, (g %% 1000)::text, 'x', 'update', NULL, NULL, '[]', '{}', '', 'api', '',
    md5(g::text) || md5((g + 1)::text), '',
    1 + (g * (pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 10)) / %(n)s
FROM generate_series(1, %(n)s) g
"""


def generate():
    User = get_user_model()
    if Agency.objects.filter(code="B1").exists():
        return
    agencies = [Agency.objects.create(name=f"Bench {i}", code=f"B{i}") for i in range(1, 21)]
    viewer = User.objects.create(username="bench-viewer")
    for agency in agencies[:2]:
        Membership.objects.create(user=viewer, agency=agency, role="viewer")
    User.objects.create(username="bench-root", is_superuser=True, is_staff=True)
    with connection.cursor() as cursor:
        cursor.execute(INSERT, {"n": N, "agencies": [a.pk for a in agencies],
                                "content_type": ContentType.objects.get_for_model(Device).pk})
        cursor.execute("ANALYZE qgov_auditevent")


def measure():
    User = get_user_model()
    viewer, root = User.objects.get(username="bench-viewer"), User.objects.get(username="bench-root")
    first = Agency.objects.get(code="B1").pk
    mid = AuditEvent.objects.filter(agency_id=first).order_by("txid", "id")[N // 40]
    cursor = Position(mid.txid, mid.id, timezone.now()).encode()
    view, factory = ChangeFeedView.as_view(), RequestFactory()
    for label, user, params in [("viewer, 2 agencies, from start", viewer, {}),
                                ("viewer, ?agency=, mid cursor", viewer, {"agency": first, "cursor": cursor}),
                                ("viewer, 2 agencies, mid cursor", viewer, {"cursor": cursor}),
                                ("superuser, all 20, mid cursor", root, {"cursor": cursor})]:
        for limit in (100, 1000):
            times = []
            for _ in range(5):
                request = factory.get("/api/changes/", {**params, "limit": limit})
                force_authenticate(request, user=user)
                started = time.perf_counter()
                response = view(request)
                response.render()
                times.append(time.perf_counter() - started)
                assert response.status_code == 200, response.data
            print(f"{label:36s} limit={limit:5d} results={len(response.data['results']):5d} "
                  f"median={sorted(times)[2] * 1000:7.1f} ms")


if __name__ == "__main__":
    generate()
    measure()
