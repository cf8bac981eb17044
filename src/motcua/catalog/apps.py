from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "motcua.catalog"
    label = "catalog"
    verbose_name = "Danh mục thủ tục / procedure catalog"
