from django.urls import path

from governance.releases import api, views

app_name = "releases"
urlpatterns = [
    path("releases/", views.ReleaseQueueView.as_view(), name="queue"),
    path("releases/new", views.ReleaseCreateView.as_view(), name="create"),
    path("releases/approvers/", views.ApproverAssignmentView.as_view(), name="assignments"),
    path(
        "releases/approvers/<int:pk>/delete",
        views.ApproverAssignmentDeleteView.as_view(),
        name="assignment-delete",
    ),
    path("releases/<uuid:public_id>/", views.ReleaseDetailView.as_view(), name="detail"),
    path("releases/<uuid:public_id>/edit", views.ReleaseEditView.as_view(), name="edit"),
    path("releases/<uuid:public_id>/decide", views.ReleaseApproveView.as_view(), name="decide"),
    path("releases/<uuid:public_id>/submit", views.ReleaseSubmitView.as_view(), name="submit"),
    path("releases/<uuid:public_id>/recheck", views.ReleaseRecheckView.as_view(), name="recheck"),
    path(
        "releases/<uuid:public_id>/withdraw", views.ReleaseWithdrawView.as_view(), name="withdraw"
    ),
    path("releases/<uuid:public_id>/deploy", views.ReleaseDeployView.as_view(), name="deploy"),
    path(
        "releases/<uuid:public_id>/rollback", views.ReleaseRollbackView.as_view(), name="rollback"
    ),
]
api_urlpatterns = [
    path("releases/", api.ReleaseListCreateApi.as_view(), name="releases"),
    path(
        "releases/approvers",
        api.ApproverAssignmentListCreateApi.as_view(),
        name="release-assignments",
    ),
    path(
        "releases/approvers/<int:pk>",
        api.ApproverAssignmentDetailApi.as_view(),
        name="release-assignment-detail",
    ),
    path("releases/<uuid:public_id>", api.ReleaseDetailApi.as_view(), name="release-detail"),
    path("releases/<uuid:public_id>/submit", api.ReleaseSubmitApi.as_view(), name="release-submit"),
    path(
        "releases/<uuid:public_id>/withdraw",
        api.ReleaseWithdrawApi.as_view(),
        name="release-withdraw",
    ),
    path(
        "releases/<uuid:public_id>/approvals",
        api.ReleaseApprovalApi.as_view(),
        name="release-approvals",
    ),
    path("releases/<uuid:public_id>/deploy", api.ReleaseDeployApi.as_view(), name="release-deploy"),
    path(
        "releases/<uuid:public_id>/rollback",
        api.ReleaseRollbackApi.as_view(),
        name="release-rollback",
    ),
]
