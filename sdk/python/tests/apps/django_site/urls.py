# The seed's urls.py (shared/seeds/001), as written, plus the test site's views.
from django.urls import include, path

from bloonio_auth_relay_client.adapters.django import urls as relay_urls
from bloonio_chat_relay_client.adapters.django import urls as chat_urls

from . import views

urlpatterns = [
    path("transfer/execute", views.transfer_execute),
    path("drf/transfer", views.drf_transfer),
    path("drf/transfer-outer", views.drf_transfer_outer),
    path("drf/apiview", views.TransferAPIView.as_view()),
    path("drf/viewset", views.TransferViewSet.as_view({"post": "create"})),
    path("async/transfer", views.async_transfer),
    path("typed/totp", views.typed_totp),
    path("typed/golden", views.typed_golden),
    path("_test/health", views.health),
    path("_test/state", views.state),
    path("", include(relay_urls)),
    path("", include(chat_urls)),
]
