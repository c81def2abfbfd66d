"""The control catalog page: NIST AI RMF functions, categories, subcategories."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from governance.accounts.permissions import Perm, PermissionRequiredMixin
from governance.controls.selectors import catalog_functions


class CatalogView(PermissionRequiredMixin, View):
    required_permission = Perm.CONTROLS_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        functions = catalog_functions(principal=request.user)
        return render(request, "controls/catalog.html", {"functions": functions})
