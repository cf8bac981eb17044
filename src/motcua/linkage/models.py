"""Linkage jobs (one sector dataset linked against the registry) and the pairs the engine could
not decide, which officials confirm or reject; their decisions train the next job of the kind."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy

from motcua.linkage.dataset import KINDS


class Status(models.TextChoices):
    QUEUED = "queued", gettext_lazy("Đang chờ")
    RUNNING = "running", gettext_lazy("Đang chạy")
    DONE = "done", gettext_lazy("Hoàn thành")
    FAILED = "failed", gettext_lazy("Lỗi")


class Decision(models.TextChoices):
    PENDING = "pending", gettext_lazy("Chờ đối soát")
    CONFIRMED = "confirmed", gettext_lazy("Cùng một người")
    REJECTED = "rejected", gettext_lazy("Không phải")


class LinkageJob(models.Model):
    kind = models.CharField(max_length=16, choices=[(k, v.label) for k, v in KINDS.items()])
    # The uploaded dataset, in the private storage under a generated name.
    dataset_name = models.CharField(max_length=200)
    # The client's file name, sanitised: only ever shown.
    original_name = models.CharField(max_length=200)
    dataset_size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    rows = models.BigIntegerField()
    # The dataset's own column names where they differ from the kind's (field -> column).
    columns = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    # Progress of the engine: the stage it is in, and how far it got in that stage.
    stage = models.CharField(max_length=16, blank=True)
    done = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    records = models.BigIntegerField(default=0)
    linked = models.BigIntegerField(default=0)
    review = models.BigIntegerField(default=0)
    unlinked = models.BigIntegerField(default=0)
    by_method = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    # The engine's working directory (resumable state, results, report) on this machine.
    out_dir = models.CharField(max_length=500)
    output = models.CharField(max_length=500, blank=True)
    report = models.CharField(max_length=500, blank=True)
    wall_s = models.FloatField(null=True, blank=True)
    created_by = models.CharField(max_length=150)
    # The agency the job works for: only its officials see the job, its results and its pairs.
    # Empty only for jobs from before jobs had an owner (nobody sees those).
    agency = models.ForeignKey(
        "catalog.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=64)
    created = models.DateTimeField(default=timezone.now)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = gettext_lazy("lượt liên kết dữ liệu")
        verbose_name_plural = pgettext_lazy("plural", "lượt liên kết dữ liệu")
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"], name="linkage_job_started_once"
            )
        ]
        indexes = [
            models.Index(fields=["-created"], name="linkage_job_newest"),
            models.Index(fields=["agency", "-created"], name="linkage_job_agency_newest"),
        ]
        permissions = [
            ("run_linkage", gettext_lazy("Chạy liên kết dữ liệu chuyên ngành")),
            ("review_pair", gettext_lazy("Đối soát cặp bản ghi")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class ReviewPair(models.Model):
    """A sector record and a registry citizen the engine found alike but not alike enough."""

    job = models.ForeignKey(LinkageJob, on_delete=models.CASCADE, related_name="pairs")
    sector_id = models.CharField(max_length=100)
    pin = models.CharField(max_length=12)
    match_weight = models.FloatField()
    probability = models.FloatField()
    # The values compared (full_name, birth_date, sex, cmnd, ward, address) on each side, and
    # each field's contribution to the match weight.
    record = models.JSONField(default=dict)
    citizen = models.JSONField(default=dict)
    contributions = models.JSONField(default=dict)
    decision = models.CharField(max_length=9, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.CharField(max_length=170, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    # Optimistic lock: a decision on a stale version is refused.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = gettext_lazy("cặp cần đối soát")
        verbose_name_plural = pgettext_lazy("plural", "cặp cần đối soát")
        constraints = [
            models.UniqueConstraint(fields=["job", "sector_id", "pin"], name="review_pair_once")
        ]
        indexes = [
            # The queue of a job: pending first, most likely first.
            models.Index(fields=["job", "decision", "-probability", "id"], name="review_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.sector_id} ~ {self.pin}"
