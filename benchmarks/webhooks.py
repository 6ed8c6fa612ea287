"""Webhooks off the write path (issue #14):

    python -m benchmarks.webhooks --database-url postgres://postgres@127.0.0.1:5432/qgov_wh_bench \\
        --broker-url redis://127.0.0.1:6379/5

1. Write latency: API PATCHes of a risk's title (Django test client, in-process, as an editor), in
   alternating blocks with 0 and with 5 active endpoints subscribed to every event, so that drift of
   the shared machine hits both alike. With the broker configured, each write with endpoints writes
   5 outbox rows and, on commit, queues one send message in Redis: both are on the measured path.
2. Throughput: one `celery worker` process (`--pool solo`: one process, one delivery at a time) and
   a real HTTP receiver on 127.0.0.1; N changes (default 1,000) each make one delivery; we time from
   the first change to the N-th signed delivery received, and verify every signature.

The database is dropped and created again, so its name must end in "_bench". Results go to
benchmarks/results/webhooks-<label>.json (or --output).
"""

import argparse
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
QUEUE = "qgov-bench-webhooks"


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[max(0, round(fraction * len(ordered)) - 1)]


def measure_writes(client, risk_id: int, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        title = f"Harvest now, decrypt later {secrets.token_hex(4)}"
        began = time.perf_counter()
        response = client.patch(f"/api/risks/{risk_id}/", {"title": title}, format="json")
        samples.append(time.perf_counter() - began)
        assert response.status_code == 200, response.content
    return samples


def start_worker(env: dict, log_path: Path) -> subprocess.Popen:
    celery = Path(sys.executable).parent / "celery"
    command = [str(celery), "-A", "qgov", "worker", "--pool", "solo", "-l", "warning", "-Q", QUEUE,
               "-n", f"{QUEUE}@localhost", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    return subprocess.Popen(command, cwd=BENCH_DIR.parent, env=env, stdout=log_path.open("w"),  # noqa: S603
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qgov_wh_bench"))
    parser.add_argument("--broker-url", default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/5"))
    parser.add_argument("--writes", type=int, default=300, help="timed writes per setting (0 and 5 endpoints)")
    parser.add_argument("--block", type=int, default=50, help="writes per alternating block")
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--label", default="after")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)

    from benchmarks.run import configure_environment, fresh_database

    configure_environment(args.database_url)
    os.environ["CELERY_BROKER_URL"] = args.broker_url
    os.environ["QGOV_WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"
    sys.path.insert(0, str(BENCH_DIR.parent))
    fresh_database(args.database_url)
    import django

    django.setup()
    import redis
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.test import APIClient
    from standardwebhooks.webhooks import Webhook

    from qgov.celery import app as celery_app
    from qgov.choices import RoleChoices
    from qgov.integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
    from qgov.integrations.webhooks.tasks import webhooks_send_due
    from qgov.models import Agency, Membership
    from qgov.services import object_update
    from risks.models import Risk
    from risks.services import risk_matrix_ensure
    from tests.factories import UserFactory
    from tests.integrations.factories import make_endpoint
    from tests.integrations.receiver import Receiver

    celery_app.conf.task_default_queue = QUEUE
    broker = redis.Redis.from_url(args.broker_url)
    broker.delete(QUEUE)
    call_command("migrate", verbosity=0)
    agency = Agency.objects.create(name="Bench agency", code="BENCH", sector="digital")
    risk_matrix_ensure(agency)
    editor = UserFactory(username="bench-editor")
    Membership.objects.create(agency=agency, user=editor, role=RoleChoices.EDITOR)
    risk = Risk.objects.create(agency=agency, title="Bench risk", inherent_likelihood=3, inherent_impact=4)
    client = APIClient()
    client.force_authenticate(editor)

    # --- 1. write latency, 0 vs 5 endpoints ---------------------------------------------------
    endpoints = [make_endpoint(agency, name=f"Bench {n}", target_url="http://127.0.0.1:9/unused") for n in range(5)]
    measure_writes(client, risk.pk, 20)  # warm-up
    samples = {0: [], 5: []}
    while len(samples[5]) < args.writes:
        for setting in (0, 5):
            WebhookEndpoint.objects.filter(pk__in=[e.pk for e in endpoints]).update(is_active=setting == 5)
            samples[setting] += measure_writes(client, risk.pk, args.block)
    outbox_rows = WebhookDelivery.objects.count()
    WebhookEndpoint.objects.filter(pk__in=[e.pk for e in endpoints]).delete()
    broker.delete(QUEUE)
    writes = {}
    for setting, values in samples.items():
        ordered = sorted(values)
        writes[setting] = {"writes": len(ordered), "p50_ms": round(statistics.median(ordered) * 1000, 2),
                           "p95_ms": round(percentile(ordered, 0.95) * 1000, 2)}
    overhead = writes[5]["p50_ms"] / writes[0]["p50_ms"] - 1

    # --- 2. N changes -> N signed deliveries, one worker --------------------------------------
    log_path = Path(tempfile.gettempdir()) / f"qgov-webhooks-worker-{args.label}.log"  # read when it fails
    (BENCH_DIR / "results").mkdir(exist_ok=True)
    env = dict(os.environ)
    connection.close()
    worker = start_worker(env, log_path)
    try:
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(destination=[f"{QUEUE}@localhost"], timeout=1.0):
            assert worker.poll() is None and time.monotonic() < deadline, log_path.read_text()
        with Receiver() as receiver:
            endpoint = make_endpoint(agency, target_url=receiver.url, event_types=["risks.risk.updated"])
            began = time.perf_counter()
            for number in range(args.deliveries):
                object_update(instance=risk, user=editor, data={"title": f"Change {number}"})
            writes_done = time.perf_counter() - began
            last_beat = time.monotonic()
            while len(receiver.received) < args.deliveries:
                assert time.perf_counter() - began < 600, f"{len(receiver.received)} received; {log_path}"
                if time.monotonic() - last_beat > 5:  # the beat, as a safety net
                    webhooks_send_due.delay()
                    last_beat = time.monotonic()
                time.sleep(0.02)
            delivered = time.perf_counter() - began
        verifier = Webhook(endpoint.plain_secret)
        verified = sum(1 for r in receiver.received if verifier.verify(r.body, r.headers))
        ids = {r.headers["webhook-id"] for r in receiver.received}
        succeeded = WebhookDelivery.objects.filter(endpoint=endpoint, status="succeeded").count()

        # --- 3. a backlog: N deliveries made while no worker ran, then one worker and the beat -----
        worker.terminate()
        worker.wait(timeout=30)
        broker.delete(QUEUE)
        with Receiver() as backlog_receiver:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(target_url=backlog_receiver.url)
            for number in range(args.deliveries):
                object_update(instance=risk, user=editor, data={"title": f"Backlog {number}"})
            broker.delete(QUEUE)  # only the beat's message will start it
            connection.close()
            worker = start_worker(env, log_path)
            deadline = time.monotonic() + 60
            while not celery_app.control.ping(destination=[f"{QUEUE}@localhost"], timeout=1.0):
                assert worker.poll() is None and time.monotonic() < deadline, log_path.read_text()
            began = time.perf_counter()
            last_beat = 0.0
            while len(backlog_receiver.received) < args.deliveries:
                assert time.perf_counter() - began < 600, f"{len(backlog_receiver.received)} received"
                if time.monotonic() - last_beat > 5:
                    webhooks_send_due.delay()
                    last_beat = time.monotonic()
                time.sleep(0.02)
            drained = time.perf_counter() - began
            backlog_verified = sum(1 for r in backlog_receiver.received if verifier.verify(r.body, r.headers))
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        broker.delete(QUEUE)

    result = {
        "label": args.label,
        "backend": connection.vendor,
        "broker": args.broker_url.rsplit("@", 1)[-1],
        "write_latency": {"0_endpoints": writes[0], "5_endpoints": writes[5],
                          "p50_overhead_pct": round(overhead * 100, 1), "outbox_rows_written": outbox_rows},
        "throughput": {"changes": args.deliveries, "writes_s": round(writes_done, 2),
                       "all_delivered_s": round(delivered, 2), "received": len(receiver.received),
                       "distinct_webhook_ids": len(ids), "signatures_verified": verified,
                       "succeeded_rows": succeeded, "worker": "1 process (--pool solo)"},
        "backlog": {"deliveries": args.deliveries, "all_delivered_s": round(drained, 2),
                    "signatures_verified": backlog_verified,
                    "sender_threads": int(os.environ.get("QGOV_WEBHOOK_SENDER_THREADS", 4))},
        "machine": {"python": platform.python_version(), "django": django.get_version(),
                    "platform": platform.platform(), "cpus": os.cpu_count(), "load": os.getloadavg()},
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    output = args.output or BENCH_DIR / "results" / f"webhooks-{args.label}.json"
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
