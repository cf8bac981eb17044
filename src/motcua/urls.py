from django.contrib import admin
from django.urls import path

from motcua.api import api
from motcua.core.views import healthz
from motcua.web.views import home

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
