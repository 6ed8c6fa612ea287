"""Where one page of the national suite spends its time: a cProfile of repeated in-process calls
(Django's test client, DEBUG off, as the suite's benchmark user), summarised as the cumulative time
of the parts of a request (SQL compilation, the driver, pagination, serialisation, authentication,
the table rows, the filter sidebar…) and the own time per package.

    python -m benchmarks.profile_page --database-url sqlite:///benchmarks/national-sqlite-10k.sqlite3 \\
        --path "/api/risks/?limit=10"
    python -m benchmarks.profile_page --database-url sqlite:///benchmarks/national-sqlite-10k.sqlite3 \\
        --path /risks/register/

API paths are called with the user's API token, other pages with a logged-in session. Figures are
under the profiler (two to three times the real time): read them as shares of the call.
"""

import argparse
import collections
import cProfile
import pstats
import sys

from benchmarks.run import BENCH_DIR, configure_environment

# The parts of a request, by the function whose cumulative time measures them.
PARTS = {
    "execute_sql": "ORM: compile and execute (execute_sql)",
    "as_sql": "ORM: SQL compilation (as_sql)",
    "_execute": "database driver (cursor.execute)",
    "authenticate_credentials": "API token authentication",
    "paginate_queryset": "API pagination (count and page)",
    "to_representation": "API serialisation",
    "get_queryset": "get_queryset (scope, relations)",
    "attach_brief_values": "API relations read as values",
    "rendered_content": "template rendering (whole page)",
    "tbody_html": "table rows",
    "get_filterset": "filter sidebar",
    "from_db": "model instances built",
}
PACKAGES = ("django/db/models/sql", "django/db/models", "django/db/backends", "django/template", "django/forms",
            "django/urls", "django/utils", "django/", "rest_framework/", "django_filters/", "django_tables2/",
            "/qgov/", "/risks/")


def package_of(filename: str) -> str:
    return next((name for name in PACKAGES if name in filename), "other (built-ins, standard library)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=f"sqlite:///{BENCH_DIR / 'national-sqlite-10k.sqlite3'}")
    parser.add_argument("--path", default="/api/risks/?limit=10")
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args(argv)
    configure_environment(args.database_url)
    sys.path.insert(0, str(BENCH_DIR.parent))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from benchmarks.national_run import bench_credentials

    key, user = bench_credentials()
    if args.path.startswith("/api/"):
        client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    else:
        client = Client()
        client.force_login(get_user_model().objects.get(pk=user.pk))
    for _ in range(10):
        assert client.get(args.path).status_code == 200
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.calls):
        client.get(args.path)
    profile.disable()
    stats = pstats.Stats(profile).stats
    total = sum(own for _calls, _primitive, own, _cumulative, _callers in stats.values())
    per_call = 1000 / args.calls
    print(f"{args.path}: {total * per_call:.1f} ms per call under the profiler ({args.calls} calls)")
    parts = collections.defaultdict(float)
    packages = collections.Counter()
    for (filename, _line, name), (_calls, _primitive, own, cumulative, _callers) in stats.items():
        if name in PARTS:
            parts[PARTS[name]] = max(parts[PARTS[name]], cumulative)
        packages[package_of(filename)] += own
    print("parts of the call (cumulative; they overlap):")
    for label, seconds in sorted(parts.items(), key=lambda item: -item[1]):
        print(f"  {seconds * per_call:7.2f} ms  {seconds / total:5.1%}  {label}")
    print("own time per package:")
    for package, seconds in packages.most_common():
        print(f"  {seconds * per_call:7.2f} ms  {seconds / total:5.1%}  {package}")


if __name__ == "__main__":
    main()
