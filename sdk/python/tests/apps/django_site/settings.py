# The seed's Django settings (shared/seeds/001), as written except BASE_URL, which the seed hard-codes
# to the production relay and the test points at the relay it started.
import os

SECRET_KEY = "test-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.apps.django_site.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tests.apps.django_site.auth.HeaderAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "bloonio_chat_relay_client.adapters.django",
    "bloonio_auth_relay_client.adapters.django",
]
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "tests.apps.django_site.auth.HeaderUserMiddleware",
    "bloonio_auth_relay_client.adapters.django.middleware.SudoActionMiddleware",
]
BLOONIO_AUTH_RELAY = {
    "BASE_URL": os.environ["RELAY_BASE_URL"],
    "TENANT_ID": os.environ["RELAY_TENANT_ID"],
    "TENANT_SECRET": os.environ["RELAY_TENANT_SECRET"],
    "STATE_BACKEND": "redis",
    "STATE_BACKEND_URL": os.environ["REDIS_URL"],
    "CALLBACK_PATH": "/api/sudo-callback/",
    "STATE_PREFIX": os.environ["TEST_STATE_PREFIX"],  # the test's own key prefix in the shared Redis
}
# The site's own session (a real site: Django's session key, the default), which totp / goldenNumber codes are bound to.
BLOONIO_SUDO_SESSION_KEY = "tests.apps.django_site.auth.session_key"
BLOONIO_CHAT_RELAY = {
    "BASE_URL": os.environ["RELAY_BASE_URL"],
    "TENANT_ID": os.environ["RELAY_TENANT_ID"],
    "TENANT_SECRET": os.environ["RELAY_TENANT_SECRET"],
    "HANDLERS": {"conversation-started": "tests.apps.django_site.views.on_conversation_started"},
}
