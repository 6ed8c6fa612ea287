"""Identity provider pages, included under /agency/ (/agency/identity-providers/…) in the core's
"qgov" namespace."""

from qgov.identity.providers import views
from qgov.identity.providers.models import IdentityProvider
from qgov.routing import model_urls

urlpatterns = [*model_urls("identity-providers", IdentityProvider, views)]
