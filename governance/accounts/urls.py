from django.urls import path

from governance.accounts import api, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("settings/tokens/", views.ApiTokenListView.as_view(), name="token-list"),
    path("settings/users/", views.UserListView.as_view(), name="user-list"),
    path("settings/users/<str:username>/role", views.UserRoleView.as_view(), name="user-role"),
    path(
        "settings/tokens/<uuid:public_id>/revoke",
        views.ApiTokenRevokeView.as_view(),
        name="token-revoke",
    ),
]
api_urlpatterns = [path("me", api.MeApi.as_view(), name="me")]
