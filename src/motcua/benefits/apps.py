from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class BenefitsConfig(AppConfig):
    name = "motcua.benefits"
    label = "benefits"
    verbose_name = gettext_lazy("Bảo trợ xã hội")
