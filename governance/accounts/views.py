"""Sign-in, sign-out, and API token management (admins)."""

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.views import View

from governance.accounts.forms import ApiTokenCreateForm, ReasonForm, RoleChangeForm
from governance.accounts.login_throttle import login_cooloff, login_lockout_note
from governance.accounts.models import Role, User
from governance.accounts.permissions import TOKEN_SCOPES, Perm, PermissionRequiredMixin
from governance.accounts.selectors import api_token_get, api_token_list, user_get, user_list
from governance.accounts.services import (
    api_token_create,
    api_token_revoke,
    login_lockout_record,
    login_record,
    user_set_role,
)
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.core.form_errors import form_add_service_errors


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    http_method_names = ["get", "post", "head", "options"]
    public = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        login_record(
            actor=Actor.from_request(self.request),
            user=form.get_user(),
            username="",
            succeeded=True,
        )
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        # Axes counted this failure (or refused it during a lockout, counting nothing). The audit
        # log gets the first failure of a series and then one lockout event with the count, so
        # an anonymous caller cannot grow the append-only log one event per guess.
        request = self.request
        username = form.data.get("username", "")[:150]
        user = User.objects.filter(username=username).first()
        failures = getattr(request, "axes_failures_since_start", None)
        if getattr(request, "axes_locked_out", False):
            if failures is not None:  # this failure tripped the lockout
                login_lockout_note(request)
                login_lockout_record(
                    actor=Actor.from_request(request),
                    user=user,
                    username=username,
                    failures=failures,
                    cooloff_seconds=int(login_cooloff(request).total_seconds()),
                )
        elif failures is None or failures <= 1:
            login_record(
                actor=Actor.from_request(request), user=user, username=username, succeeded=False
            )
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    public = True


class ApiTokenListView(PermissionRequiredMixin, View):
    required_permission = Perm.TOKENS_MANAGE

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, ApiTokenCreateForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ApiTokenCreateForm(request.POST)
        if form.is_valid():
            try:
                token, secret = api_token_create(
                    actor=Actor.from_request(request), **form.cleaned_data
                )
            except ValidationError as exc:
                form_add_service_errors(form, exc)
            else:
                # The secret exists only in this response; it is never stored or shown again.
                response = render(
                    request, "accounts/token_created.html", {"token": token, "secret": secret}
                )
                patch_cache_control(response, no_store=True, private=True)
                return response
        return self._render(request, form, status=400)

    def _render(
        self, request: HttpRequest, form: ApiTokenCreateForm, status: int = 200
    ) -> HttpResponse:
        context = {
            "tokens": api_token_list(principal=request.user),
            "form": form,
            "revoke_form": ReasonForm(),
            "scope_labels": TOKEN_SCOPES,
        }
        return render(request, "accounts/token_list.html", context, status=status)


class ApiTokenRevokeView(PermissionRequiredMixin, View):
    required_permission = {"POST": Perm.TOKENS_MANAGE}

    def post(self, request: HttpRequest, public_id: Any) -> HttpResponse:
        token = api_token_get(principal=request.user, public_id=public_id)
        form = ReasonForm(request.POST)
        if not form.is_valid():
            messages.error(request, f"Token {token.name} was not revoked: a reason is required.")
            return redirect("accounts:token-list")
        try:
            api_token_revoke(
                actor=Actor.from_request(request), token=token, reason=form.cleaned_data["reason"]
            )
        except Conflict as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, f"Token {token.name} revoked. Machines using it are now refused."
            )
        return redirect("accounts:token-list")


class UserListView(PermissionRequiredMixin, View):
    required_permission = Perm.USERS_MANAGE

    def get(self, request: HttpRequest) -> HttpResponse:
        context = {"users": user_list(principal=request.user), "roles": Role.choices}
        return render(request, "accounts/user_list.html", context)


class UserRoleView(PermissionRequiredMixin, View):
    required_permission = {"POST": Perm.USERS_MANAGE}

    def post(self, request: HttpRequest, username: str) -> HttpResponse:
        user = user_get(principal=request.user, username=username)
        form = RoleChangeForm(request.POST)
        if not form.is_valid():
            messages.error(
                request, f"The role of {user.username} was not changed: a reason is required."
            )
        elif user == request.user:
            messages.error(request, "Ask another admin to change your own role.")
        else:
            user_set_role(
                actor=Actor.from_request(request),
                user=user,
                role=form.cleaned_data["role"],
                reason=form.cleaned_data["reason"],
            )
            messages.success(
                request, f"{user.username} is now {Role(form.cleaned_data['role']).label}."
            )
        return redirect("accounts:user-list")
