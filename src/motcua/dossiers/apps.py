from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class DossiersConfig(AppConfig):
    name = "motcua.dossiers"
    label = "dossiers"
    verbose_name = gettext_lazy("Hồ sơ")
