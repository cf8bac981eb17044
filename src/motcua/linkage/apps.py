from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "motcua.linkage"
    label = "linkage"
    verbose_name = "Làm sạch dữ liệu / record linkage"
