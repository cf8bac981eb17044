from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class LinkageConfig(AppConfig):
    name = "motcua.linkage"
    label = "linkage"
    verbose_name = gettext_lazy("Làm sạch dữ liệu")
