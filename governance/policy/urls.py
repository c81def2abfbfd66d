"""Policy pages and API."""

app_name = "policy"

urlpatterns: list = []

api_urlpatterns: list = []
