"""The names of the workflows' steps, as the catalog data writes them (Vietnamese): listed
here for the translation catalog. Pages show a step by `TransitionView.label`, which translates
the stored name."""

from django.utils.translation import pgettext_lazy

WORKFLOW_NAMES = (
    pgettext_lazy(
        "workflow step", "Quy trình một cửa: tiếp nhận, phân công, xử lý, phê duyệt, trả kết quả"
    ),
    pgettext_lazy("workflow step", "Tiếp nhận"),
    pgettext_lazy("workflow step", "Từ chối tiếp nhận"),
    pgettext_lazy("workflow step", "Phân công xử lý"),
    pgettext_lazy("workflow step", "Bắt đầu xử lý"),
    pgettext_lazy("workflow step", "Yêu cầu bổ sung"),
    pgettext_lazy("workflow step", "Bổ sung hồ sơ"),
    pgettext_lazy("workflow step", "Phê duyệt"),
    pgettext_lazy("workflow step", "Từ chối giải quyết"),
    pgettext_lazy("workflow step", "Ban hành kết quả"),
    pgettext_lazy("workflow step", "Trả kết quả"),
    pgettext_lazy("workflow step", "Rút hồ sơ"),
    pgettext_lazy(
        "workflow step", "Hộ tịch cấp xã: công chức tư pháp - hộ tịch tiếp nhận và xử lý ngay"
    ),
    pgettext_lazy("workflow step", "Tiếp nhận và xử lý"),
)
