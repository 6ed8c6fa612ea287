import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url

from qgov.identity import sessions


class SessionLimitMiddleware:
    """Ends a browser session past its idle or absolute limit (qgov.identity.sessions) and sends the
    user to sign in again, saying why.

    - A request without a session cookie (an API token, an anonymous visitor) costs nothing: not
      even the session is read.
    - Requests under /api/ are checked but never count as activity: a script polling the API with a
      browser's cookie does not keep that browser signed in.
    - A page view writes at most once per QGOV_SESSION_TOUCH_SECONDS (sessions.session_touch).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.SESSION_COOKIE_NAME not in request.COOKIES or not request.user.is_authenticated:
            return self.get_response(request)
        now = time.time()
        reason = sessions.expiry_reason(request.session, now)
        is_api = request.path.startswith("/api/")
        if reason is not None:
            message = sessions.expiry_message(reason, request.session)
            record = sessions.user_sessions_of(request.user).filter(key_hash=request.session.key_hash).first()
            if record is not None:
                sessions.user_session_end(record=record, reason=reason)
            logout(request)
            if is_api:
                return self.get_response(request)  # answered as for any request without a session
            messages.warning(request, message)
            login_url = resolve_url(settings.LOGIN_URL)
            query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
            return HttpResponseRedirect(f"{login_url}?{query}" if query else login_url)
        if not is_api:
            sessions.session_touch(request, now)
        return self.get_response(request)
