"""The generic model test suite. A model's tests are one subclass that declares how to make a
record and what valid input looks like; the suite then checks, through the API and the UI,
every role against the role table, isolation from other agencies (404, nothing changed),
audit events for each change, ETag / If-Match, stale form versions, a pinned number of
queries for list pages that does not grow with rows or page size, no filter making a list
`SELECT DISTINCT`, and related records read without fetching deferred columns.

    class TestMembership(ModelTestSuite):
        model = Membership
        api_path = "/api/memberships/"
        list_queries = 3
        ...
"""

from qgov.testing.api import ApiChecks
from qgov.testing.base import ROLES, SuiteBase, events_for, role_may
from qgov.testing.lifecycle import LifecycleChecks
from qgov.testing.ui import UiChecks

__all__ = ["ROLES", "ModelTestSuite", "SuiteBase", "events_for", "role_may"]


class ModelTestSuite(ApiChecks, UiChecks, LifecycleChecks):
    """A model's generic checks: subclass it, declare the model and the hooks (SuiteBase)."""

