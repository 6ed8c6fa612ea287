from rest_framework.pagination import LimitOffsetPagination


class QgovPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 1000
