from django.urls import path

from governance.runtime import api, control_api, ofrep, views

# The web pages are mounted by governance.incidents.urls, in its namespace, so their names
# (incidents:kill-switch-panel, -card, -flip) are unchanged.
web_urlpatterns = [
    path("kill-switches/", views.KillSwitchPanelView.as_view(), name="kill-switch-panel"),
    path(
        "kill-switches/<slug:key>/card",
        views.KillSwitchCardView.as_view(),
        name="kill-switch-card",
    ),
    path(
        "kill-switches/<slug:key>/flip",
        views.KillSwitchFlipView.as_view(),
        name="kill-switch-flip",
    ),
    path(
        "kill-switches/<slug:key>/attach",
        views.KillSwitchAttachView.as_view(),
        name="kill-switch-attach",
    ),
    path(
        "kill-switches/<slug:key>/cancel-release",
        views.KillSwitchCancelReleaseView.as_view(),
        name="kill-switch-cancel-release",
    ),
]
# The stream comes before {key}: "stream" is a reserved key.
api_urlpatterns = [
    path("kill-switches/", api.KillSwitchListApi.as_view(), name="kill-switches"),
    path("kill-switches/stream", api.KillSwitchStreamView.as_view(), name="kill-switch-stream"),
    path("kill-switches/<slug:key>", api.KillSwitchDetailApi.as_view(), name="kill-switch-detail"),
    path(
        "kill-switches/<slug:key>/engage",
        api.KillSwitchEngageApi.as_view(),
        name="kill-switch-engage",
    ),
    path(
        "kill-switches/<slug:key>/release",
        api.KillSwitchReleaseApi.as_view(),
        name="kill-switch-release",
    ),
    path("runtime-controls/", control_api.RuntimeControlListApi.as_view(), name="runtime-controls"),
    path(
        "runtime-controls/<slug:key>",
        control_api.RuntimeControlDetailApi.as_view(),
        name="runtime-control-detail",
    ),
    path(
        "runtime-controls/<slug:key>/set",
        control_api.RuntimeControlSetApi.as_view(),
        name="runtime-control-set",
    ),
]
# Mounted at /ofrep/v1/ (the protocol's paths), namespace "ofrep".
ofrep_urlpatterns = [
    path("evaluate/flags", ofrep.OfrepEvaluateFlagsApi.as_view(), name="evaluate-flags"),
    path("evaluate/flags/<str:key>", ofrep.OfrepEvaluateFlagApi.as_view(), name="evaluate-flag"),
    path("configuration", ofrep.OfrepConfigurationApi.as_view(), name="configuration"),
]
