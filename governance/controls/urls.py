from django.urls import path

from governance.controls import views

app_name = "controls"
urlpatterns = [path("controls/", views.CatalogView.as_view(), name="catalog")]
