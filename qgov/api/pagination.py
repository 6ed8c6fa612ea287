import base64
import binascii
import hashlib
import json
import re

from django.db import connections
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import replace_query_param

from qgov.counting import RowCount, count_rows, exact_count_limit
from qgov.permissions import load_scope_memberships
from qgov.prepared import read_rows

MAX_INT64 = 2**63 - 1
# The columns a list's ETag reads per row of the page: together they change whenever the record does.
ETAG_STAMP_FIELDS = ("pk", "version", "last_updated")
# RFC 9110 §8.8.3 entity-tags, in an If-None-Match list.
_ENTITY_TAG = re.compile(r'(?:W/)?"([\x21\x23-\x7e\x80-\xff]*)"')
CURSOR_PREFIX = "k1:"  # versions the token, so its form can change without misreading old ones
# From this offset on, a page's ids are read before its rows (QgovPagination._read_deep).
DEEP_OFFSET = 1000


def encode_cursor(last_pk) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{json.dumps(last_pk)}".encode()).decode().rstrip("=")


def decode_cursor(token: str):
    """The last id of the previous page, or a 400: a cursor is only ever one of our `next` links."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        if not text.startswith(CURSOR_PREFIX):
            raise ValueError
        last_pk = json.loads(text[len(CURSOR_PREFIX):])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        last_pk = None
    if isinstance(last_pk, bool) or not isinstance(last_pk, int) or not -MAX_INT64 - 1 <= last_pk <= MAX_INT64:
        raise ValidationError({"cursor": [_("Not a cursor of this list: send `cursor=` empty to start, then "
                                            "follow each page's `next` link.")]})
    return last_pk


def etag_listed(header: str, tag: str) -> bool:
    """Does an If-None-Match header list `tag`? Weak comparison (RFC 9110 §13.1.2): W/ is ignored."""
    if header.strip() == "*":
        return True
    opaque = tag.removeprefix("W/")
    return any(f'"{found}"' == opaque for found in _ENTITY_TAG.findall(header))


class QgovPagination(LimitOffsetPagination):
    """`limit` and `offset` as the schema declares them: one whole number each (limit ≥ 1, offset ≥ 0,
    both within 64 bits); anything else is a 400 rather than silently the default page.

    `count` is exact up to QGOV_EXACT_COUNT_LIMIT records; past it (PostgreSQL) it is the planner's
    estimate and `count_exact` is false, unless the client sends `?count=exact`.

    Keyset mode, for clients that walk a whole list: `?cursor=` (empty) starts, each page's `next`
    link carries the cursor of the page after (`WHERE id > last ORDER BY id`, no OFFSET, so the
    thousandth page costs what the first does). It walks the list in id order (the direction of the
    view's default ordering), so `ordering` and `offset` are refused with it. Offered by views that
    set `cursor_pagination = True` (the qgov model viewsets). See docs/api.md."""

    default_limit = 50
    max_limit = 1000
    cursor_query_param = "cursor"
    count_query_param = "count"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        self.cursor_mode = self.cursor_query_param in request.query_params
        self.has_next = False
        self.etag, self.not_modified = None, False
        self.stamp_fields = ETAG_STAMP_FIELDS if getattr(view, "list_etag", False) and isinstance(
            queryset, QuerySet) else None
        self.row_count, self.page_start = None, None
        exact = self._count_exact_wanted(request)
        if self.cursor_mode:
            return self._paginate_by_cursor(queryset, request, view, exact)
        self.offset = self.get_offset(request)
        if self._page_first(queryset, request, exact):
            self.page_start = self.offset
            return self._read_from(queryset, self.offset, self.offset + self.limit + 1)
        self._settle_count(self._count(queryset, exact))
        if self.row_count.exact:
            if self.count == 0 or self.offset > self.count:
                return self._read(queryset.none() if self.stamp_fields else [], self.limit)
            stop = self.offset + self.limit
        else:  # past the exact limit, whether a next page exists is seen by reading one row more
            stop = self.offset + self.limit + 1
        return self._read_from(queryset, self.offset, stop)

    def _page_first(self, queryset, request, exact) -> bool:
        """On PostgreSQL, a list scoped by the caller's memberships reads them first (one query), so
        its queries name the agencies as constants (qgov.permissions.MemberAgencyIds). The page is
        then read before the count: a page that ends the list counts itself (the round trip spent on
        the memberships is saved there), and a full one asks the planner before counting
        (`estimate_first`). Elsewhere the count comes first, as the exact count of small lists has it."""
        if not isinstance(queryset, QuerySet) or connections[queryset.db].vendor != "postgresql":
            return False
        if not load_scope_memberships(queryset, request.user):
            return False
        self.pending_count = (queryset, exact)
        return True

    def _settle_count(self, row_count: RowCount) -> None:
        self.row_count = row_count
        self.count = row_count.value
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True

    def _count_after_reading(self, read: int) -> None:
        """The count of a list whose page was read first (`_page_first`): `read` rows of at most
        limit + 1 were read from `page_start` (None: a cursor page, which starts after unseen rows)."""
        if self.row_count is not None:
            return
        if self.page_start is not None and read <= self.limit and (read or not self.page_start):
            self._settle_count(RowCount(self.page_start + read, True))  # this page ends the list
            return
        queryset, exact = self.pending_count
        self._settle_count(self._count(queryset, exact, estimate_first=True))

    def _read_from(self, queryset, start, stop) -> list:
        if start >= DEEP_OFFSET and isinstance(queryset, QuerySet):
            return self._read_deep(queryset, start, stop)
        return self._read(queryset[start:stop], self.limit)

    def _read_deep(self, queryset, start, stop) -> list:
        """A page far down the list: the ids of its rows first, skipping the rows before it by
        their ids alone (an index-only walk where an index serves the order), then those rows
        whole. Reading the page in one query fetched every skipped row and its joins: 90,000 of
        them at offset 90,000 (380 ms, against 15 ms)."""
        ids = list(queryset.values_list("pk", flat=True)[start:stop])
        if not ids:
            return self._read(queryset.none(), self.limit)
        return self._read(queryset.filter(pk__in=ids), self.limit, order=ids)

    def _read(self, page, limit, order=None) -> list:
        """The rows of `page` (a sliced queryset, up to one row past `limit`), and for a view that
        keeps a list ETag, the ETag: computed from the rows' (id, version, last updated) without
        serialising them. With `If-None-Match`, those columns are read first (one narrow query),
        and when the tag matches nothing else is read: `not_modified` is set and the view answers 304.
        `order`: the ids of the page in their order, when `page` is those rows unsliced."""
        position = {pk: index for index, pk in enumerate(order)} if order is not None else None
        if self.stamp_fields and self.request.headers.get("If-None-Match"):
            stamps = list(page.values_list(*self.stamp_fields))
            if position is not None:  # ETAG_STAMP_FIELDS start with the id
                stamps.sort(key=lambda stamp: position[stamp[0]])
            self.has_next = self.has_next or len(stamps) > limit
            self._count_after_reading(len(stamps))
            self.etag = self._list_etag(stamps[:limit])
            if etag_listed(self.request.headers["If-None-Match"], self.etag):
                self.not_modified = True
                return []
        rows = read_rows(page) if isinstance(page, QuerySet) else list(page)
        if position is not None:
            rows.sort(key=lambda row: position[row.pk])
        self.has_next = self.has_next or len(rows) > limit
        self._count_after_reading(len(rows))
        rows = rows[:limit]
        if self.stamp_fields and self.etag is None:
            self.etag = self._list_etag([tuple(getattr(row, name) for name in self.stamp_fields) for row in rows])
        return rows

    def _list_etag(self, stamps) -> str:
        """A weak tag of what the page shows: its URL (filters, page), the count and whether more
        follow, and each row's stamp. A created, changed or deleted record changes the stamps or
        the count of every page it is on or before."""
        digest = hashlib.sha256(json.dumps(
            [self.request.build_absolute_uri(), self.count, self.row_count.exact, self.has_next,
             [[str(value) for value in stamp] for stamp in stamps]], separators=(",", ":")).encode())
        return f'W/"{digest.hexdigest()[:32]}"'

    def _paginate_by_cursor(self, queryset, request, view, exact):
        if not getattr(view, "cursor_pagination", False) or not isinstance(queryset, QuerySet):
            raise ValidationError({self.cursor_query_param: [_("This list does not offer cursor pagination; "
                                                               "use limit and offset.")]})
        for name in (self.offset_query_param, api_settings.ORDERING_PARAM):
            if name in request.query_params:
                raise ValidationError({name: [_("A cursor walks the list in id order: leave out %(name)s.")
                                              % {"name": name}]})
        token = request.query_params.getlist(self.cursor_query_param)
        if len(token) > 1:
            raise ValidationError({self.cursor_query_param: [_("Send this parameter once.")]})
        descending = self.descending(view)
        if self._page_first(queryset, request, exact):
            self.page_start = None if token[0] else 0
        else:
            self._settle_count(self._count(queryset, exact))
        queryset = queryset.order_by("-pk" if descending else "pk")
        if token[0]:
            last_pk = decode_cursor(token[0])
            queryset = queryset.filter(pk__lt=last_pk) if descending else queryset.filter(pk__gt=last_pk)
        rows = self._read(queryset[:self.limit + 1], self.limit)
        self.last_pk = rows[-1].pk if rows else None
        return rows

    @staticmethod
    def descending(view) -> bool:
        ordering = getattr(view, "ordering", None) or ["pk"]
        first = ordering[0] if isinstance(ordering, list | tuple) else ordering
        return first in ("-pk", "-id")

    def _count(self, queryset, exact, estimate_first=False) -> RowCount:
        if isinstance(queryset, QuerySet):
            return count_rows(queryset, exact=exact, estimate_first=estimate_first)
        return RowCount(len(queryset), True)

    def _count_exact_wanted(self, request) -> bool:
        values = request.query_params.getlist(self.count_query_param)
        if not values:
            return False
        if values == ["exact"]:
            return True
        raise ValidationError({self.count_query_param: [_("Send count=exact, or leave it out.")]})

    def get_next_link(self):
        if self.cursor_mode:
            if not self.has_next:
                return None
            url = replace_query_param(self.request.build_absolute_uri(), self.limit_query_param, self.limit)
            return replace_query_param(url, self.cursor_query_param, encode_cursor(self.last_pk))
        if self.row_count.exact:
            return super().get_next_link()
        if not self.has_next:
            return None
        url = replace_query_param(self.request.build_absolute_uri(), self.limit_query_param, self.limit)
        return replace_query_param(url, self.offset_query_param, self.offset + self.limit)

    def get_previous_link(self):
        return None if self.cursor_mode else super().get_previous_link()

    def get_paginated_response(self, data):
        return Response({
            "count": self.count,
            "count_exact": self.row_count.exact,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["count", "count_exact", "next", "previous", "results"]
        properties = response["properties"]
        properties["count"]["description"] = _(
            "The number of records. Exact up to %(limit)s; past that it may be the database's estimate "
            "(then count_exact is false); send count=exact for the exact number.") % {"limit": exact_count_limit()}
        properties = {"count": properties["count"],
                      "count_exact": {"type": "boolean", "description": _("False when count is an estimate.")},
                      **{name: value for name, value in properties.items() if name != "count"}}
        properties["previous"]["description"] = _("Always null in cursor mode, which walks forwards only.")
        response["properties"] = properties
        return response

    def get_limit(self, request):
        limit = self._whole_number(request, self.limit_query_param, minimum=1)
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def get_offset(self, request):
        offset = self._whole_number(request, self.offset_query_param, minimum=0)
        return 0 if offset is None else offset

    @staticmethod
    def _whole_number(request, name: str, *, minimum: int) -> int | None:
        values = request.query_params.getlist(name)
        if not values:
            return None
        if len(values) == 1 and re.fullmatch(r"[0-9]{1,19}", values[0]) and minimum <= int(values[0]) <= MAX_INT64:
            return int(values[0])
        raise ValidationError({name: [_("Send one whole number from %(minimum)s to %(maximum)s.")
                                      % {"minimum": minimum, "maximum": MAX_INT64}]})

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.limit_query_param: 1, self.offset_query_param: 0}
        for parameter in parameters:
            parameter["schema"].update({"minimum": bounds[parameter["name"]], "maximum": MAX_INT64})
            if parameter["name"] == self.limit_query_param:
                parameter["description"] = _("Number of results to return per page (at most %(max)s; "
                                             "default %(default)s).") % {"max": self.max_limit,
                                                                         "default": self.default_limit}
        if getattr(view, "queryset", None) is not None:  # a list of records; due-dates' is computed, exact
            parameters.append({
            "name": self.count_query_param, "required": False, "in": "query",
            "description": _("exact: count every record even past %(limit)s, where the count is otherwise "
                             "an estimate.") % {"limit": exact_count_limit()},
            "schema": {"type": "string", "enum": ["exact"]},
            })
        if getattr(view, "cursor_pagination", False):
            parameters.append({
                "name": self.cursor_query_param, "required": False, "in": "query",
                "description": _("Keyset pagination for walking a whole list: send it empty to start, then "
                                 "follow `next`. Pages come in id order; not with offset or ordering."),
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]*$"},
            })
        return parameters
