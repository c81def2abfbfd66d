from django.urls import path

from governance.inventory import api, views

app_name = "inventory"
urlpatterns = [
    path("systems/", views.AISystemListView.as_view(), name="system-list"),
    path("systems/new", views.AISystemCreateView.as_view(), name="system-create"),
    path("systems/<slug:slug>/", views.AISystemDetailView.as_view(), name="system-detail"),
]
api_urlpatterns = [
    path("systems/", api.AISystemListCreateApi.as_view(), name="systems"),
    path("systems/<slug:slug>", api.AISystemDetailApi.as_view(), name="system-detail"),
]
