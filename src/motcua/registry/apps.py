from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "motcua.registry"
    label = "registry"
    verbose_name = "Cơ sở dữ liệu dân cư (Population registry)"
