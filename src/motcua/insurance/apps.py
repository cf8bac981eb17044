from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class InsuranceConfig(AppConfig):
    name = "motcua.insurance"
    label = "insurance"
    verbose_name = gettext_lazy("Bảo hiểm xã hội")
