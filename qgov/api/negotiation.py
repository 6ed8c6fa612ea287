"""Content negotiation for the API: DRF's, but a blank Accept header is read as no header."""

from rest_framework.negotiation import DefaultContentNegotiation


class QgovContentNegotiation(DefaultContentNegotiation):
    """`Accept:` with an empty value (some HTTP libraries send one when a caller clears the header)
    accepts anything, as a request without the header does (RFC 9110 §12.5.1), rather than
    matching no renderer and answering 406."""

    def get_accept_list(self, request):
        return [token for token in super().get_accept_list(request) if token] or ["*/*"]
