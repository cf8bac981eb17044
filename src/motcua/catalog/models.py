"""The catalog: agencies and their officials, procedures (TTHC) with their papers, forms, fees,
deadlines and workflows. Procedures are edited as data; each edit publishes a new immutable
version, and a dossier keeps the version it was submitted under."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy, pgettext_lazy

AGENCY_CODE = RegexValidator(
    r"\A[A-Z0-9][A-Z0-9.]{1,30}[A-Z0-9]\Z",
    gettext_lazy("Mã định danh cơ quan: chữ in hoa, số và dấu chấm"),
)


class AgencyKind(models.TextChoices):
    COMMUNE = "commune", gettext_lazy("UBND cấp xã")
    COMMUNE_POLICE = "commune_police", gettext_lazy("Công an cấp xã")
    PROVINCE_POLICE = "province_police", gettext_lazy("Công an tỉnh")
    JUSTICE_DEPARTMENT = "justice_department", gettext_lazy("Sở Tư pháp")
    SOCIAL_INSURANCE = "social_insurance", gettext_lazy("Bảo hiểm xã hội")
    PROVINCE_COMMITTEE = "province_committee", gettext_lazy("UBND tỉnh")
    # Social assistance (bảo trợ xã hội) of the province, wherever the 2025 reorganisation
    # placed it: the labour and social-affairs function.
    LABOUR = "labour_department", gettext_lazy("Cơ quan lao động - xã hội cấp tỉnh")


class Agency(models.Model):
    code = models.CharField(
        gettext_lazy("mã định danh điện tử"),
        max_length=32,
        unique=True,
        validators=[AGENCY_CODE],
    )
    name = models.CharField(gettext_lazy("tên"), max_length=200)
    kind = models.CharField(gettext_lazy("loại"), max_length=24, choices=AgencyKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # The administrative unit the agency serves (a ward or a province), by geo code.
    unit_code = models.CharField(gettext_lazy("đơn vị hành chính"), max_length=16, db_index=True)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = gettext_lazy("cơ quan")
        verbose_name_plural = pgettext_lazy("plural", "cơ quan")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Role(models.TextChoices):
    RECEIVER = "receiver", gettext_lazy("Cán bộ tiếp nhận")
    PROCESSOR = "processor", gettext_lazy("Cán bộ xử lý")
    APPROVER = "approver", gettext_lazy("Lãnh đạo phê duyệt")
    CLERK = "clerk", gettext_lazy("Cán bộ trả kết quả")


class Official(models.Model):
    """One role of one staff user in one agency; an official acts only for their own agency."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="officials")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        verbose_name = gettext_lazy("cán bộ")
        verbose_name_plural = pgettext_lazy("plural", "cán bộ")
        constraints = [
            models.UniqueConstraint(fields=["user", "agency", "role"], name="official_role_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.agency.code}"


class Status(models.TextChoices):
    """The states a dossier passes through. `NATIONAL_CODES` maps them onto the status codes of
    the national portal (DOMAIN.md §6)."""

    SUBMITTED = "submitted", gettext_lazy("Mới đăng ký")
    RECEIVED = "received", gettext_lazy("Đã tiếp nhận")
    NOT_RECEIVED = "not_received", gettext_lazy("Từ chối tiếp nhận")
    ASSIGNED = "assigned", gettext_lazy("Đã phân công")
    PROCESSING = "processing", gettext_lazy("Đang xử lý")
    SUPPLEMENT_REQUESTED = "supplement_requested", gettext_lazy("Yêu cầu bổ sung")
    APPROVED = "approved", gettext_lazy("Đã phê duyệt")
    REJECTED = "rejected", gettext_lazy("Từ chối giải quyết")
    RESULT_ISSUED = "result_issued", gettext_lazy("Đã có kết quả")
    RETURNED = "returned", gettext_lazy("Đã trả kết quả")
    WITHDRAWN = "withdrawn", gettext_lazy("Công dân rút hồ sơ")


NATIONAL_CODES: dict[str, int] = {
    Status.SUBMITTED: 1,
    Status.RECEIVED: 2,
    Status.NOT_RECEIVED: 3,
    Status.ASSIGNED: 4,
    Status.PROCESSING: 4,
    Status.SUPPLEMENT_REQUESTED: 5,
    Status.APPROVED: 4,
    Status.REJECTED: 8,
    Status.RESULT_ISSUED: 9,
    Status.RETURNED: 10,
    Status.WITHDRAWN: 7,
}
CITIZEN = "citizen"  # the applicant, as a role in a transition


class Workflow(models.Model):
    code = models.SlugField(unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        verbose_name = gettext_lazy("quy trình")
        verbose_name_plural = pgettext_lazy("plural", "quy trình")

    def __str__(self) -> str:
        return self.name


class Transition(models.Model):
    """An allowed step: `action` moves a dossier from one of `sources` to `target`, taken by one
    of `roles` ("citizen" for the applicant)."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="transitions")
    action = models.SlugField(max_length=32)
    name = models.CharField(max_length=120)
    sources = ArrayField(models.CharField(max_length=24))
    target = models.CharField(max_length=24)
    roles = ArrayField(models.CharField(max_length=16))
    note_required = models.BooleanField(default=False)

    class Meta:
        verbose_name = gettext_lazy("bước chuyển")
        verbose_name_plural = pgettext_lazy("plural", "bước chuyển")
        constraints = [
            models.UniqueConstraint(fields=["workflow", "action"], name="transition_action_once")
        ]

    def __str__(self) -> str:
        return f"{self.workflow.code}: {self.action}"


class ServiceLevel(models.IntegerChoices):
    NOT_ONLINE = 2, gettext_lazy("Chưa trực tuyến")
    PARTLY = 3, gettext_lazy("Trực tuyến một phần")
    FULLY = 4, gettext_lazy("Trực tuyến toàn trình")


class EidLevel(models.IntegerChoices):
    """The e-ID level (Decree 69/2024) a citizen's sign-in must have to submit a procedure."""

    LEVEL_1 = 1, gettext_lazy("Mức 1")
    LEVEL_2 = 2, gettext_lazy("Mức 2")


class Procedure(models.Model):
    code = models.CharField(gettext_lazy("mã TTHC"), max_length=20, unique=True)
    name = models.CharField(gettext_lazy("tên"), max_length=300)
    name_en = models.CharField(gettext_lazy("tên tiếng Anh"), max_length=300, blank=True)
    field = models.CharField(gettext_lazy("lĩnh vực"), max_length=100)
    agency_kind = models.CharField(
        gettext_lazy("cơ quan thực hiện"), max_length=24, choices=AgencyKind.choices
    )
    legal_basis = models.TextField(gettext_lazy("căn cứ pháp lý"))
    days = models.PositiveSmallIntegerField(gettext_lazy("thời hạn (ngày làm việc)"))
    civil_status = models.BooleanField(
        gettext_lazy("hộ tịch (sau 15:00 tính ngày hôm sau)"), default=False
    )
    fee = models.PositiveIntegerField(gettext_lazy("lệ phí (đồng)"), default=0)
    fee_exemptions = models.JSONField(gettext_lazy("miễn giảm"), default=list, blank=True)
    service_level = models.PositiveSmallIntegerField(
        gettext_lazy("mức độ"), choices=ServiceLevel.choices
    )
    essential_no = models.PositiveSmallIntegerField(
        gettext_lazy("DVC thiết yếu số"), null=True, blank=True
    )
    min_eid_level = models.PositiveSmallIntegerField(
        gettext_lazy("mức định danh điện tử tối thiểu"),
        choices=EidLevel.choices,
        default=EidLevel.LEVEL_2,
        help_text=gettext_lazy("Mức 1 chỉ cho tra cứu, thông báo đơn giản"),
    )
    form_schema = models.JSONField(gettext_lazy("tờ khai (JSON Schema)"))
    workflow = models.ForeignKey(Workflow, on_delete=models.PROTECT)
    # What a decision on a dossier changes in other apps' records, per workflow action:
    # {"issue_result": ["birth_register"]}. Part of each published version.
    effects = models.JSONField(gettext_lazy("hiệu lực của quyết định"), default=dict, blank=True)
    active = models.BooleanField(default=True)
    # Accent-free lower-case name and code, for search without diacritics.
    search_key = models.TextField(editable=False, default="")
    current_version = models.PositiveIntegerField(editable=False, default=0)

    class Meta:
        verbose_name = gettext_lazy("thủ tục hành chính")
        verbose_name_plural = pgettext_lazy("plural", "thủ tục hành chính")
        ordering = ["field", "name"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Source(models.TextChoices):
    FORM = "form", gettext_lazy("Tờ khai trực tuyến")
    UPLOAD = "upload", gettext_lazy("Công dân nộp")
    REGISTRY_IDENTITY = "registry_identity", gettext_lazy("CSDL dân cư: nhân thân")
    REGISTRY_RESIDENCE = "registry_residence", gettext_lazy("CSDL dân cư: cư trú")
    REGISTRY_HOUSEHOLD = "registry_household", gettext_lazy("CSDL dân cư: hộ gia đình")
    REGISTRY_CIVIL_STATUS = (
        "registry_civil_status",
        gettext_lazy("CSDL dân cư: hộ tịch"),
    )
    RESULT = "result", gettext_lazy("Kết quả đã cấp")
    WALLET = "wallet", gettext_lazy("Kho dữ liệu công dân")


class Component(models.Model):
    """A paper of the dossier, and who already holds it."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="components")
    code = models.SlugField(max_length=60)
    name = models.CharField(max_length=300)
    name_en = models.CharField(max_length=300, blank=True)
    required = models.BooleanField(default=True)
    source = models.CharField(max_length=24, choices=Source.choices, default=Source.UPLOAD)
    # For `result`: the code of the procedure whose result stands in; for `wallet`: the kind.
    source_ref = models.CharField(max_length=40, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = gettext_lazy("thành phần hồ sơ")
        verbose_name_plural = pgettext_lazy("plural", "thành phần hồ sơ")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "code"], name="component_code_once")
        ]

    def __str__(self) -> str:
        return self.name


class ProcedureVersion(models.Model):
    """An immutable snapshot of a procedure, its components and its workflow's transitions."""

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = gettext_lazy("phiên bản thủ tục")
        verbose_name_plural = pgettext_lazy("plural", "phiên bản thủ tục")
        constraints = [
            models.UniqueConstraint(fields=["procedure", "number"], name="procedure_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.procedure.code} v{self.number}"
