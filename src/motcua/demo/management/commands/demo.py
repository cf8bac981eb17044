import os
from argparse import ArgumentParser
from datetime import date
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings
from oauth2_provider.settings import oauth2_settings
from rich.progress import Progress

from motcua.core.server import background_worker, serve
from motcua.demo.province import (
    DEMO_LOGINS,
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    DemoCitizen,
    DemoInfo,
    demo_prepare,
)


class Command(BaseCommand):
    help = "Migrate, seed the demo province once, print the demo logins and serve."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--citizens", type=int, default=30000)
        parser.add_argument("--seed", type=int, default=2025)
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-serve", action="store_true", help="prepare and print, do not serve"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if _production():
            raise CommandError(
                "motcua demo tạo tài khoản với mật khẩu công khai; không chạy với cấu hình "
                "production / motcua demo creates logins with a published password: it refuses "
                "production settings."
            )
        settings.SMS_LOG_CODES = True  # the printout below says the codes are in the log
        _public_at(options["port"])
        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        # The demo portal's webhook goes to this machine (plain http to localhost), which the
        # exchange allows only when told to (here, for its registration).
        with (
            override_settings(EXCHANGE_WEBHOOK_ALLOW_LOOPBACK=True),
            Progress(transient=True) as progress,
        ):
            task = progress.add_task(
                "Tạo dân cư mẫu / seeding the demo province", total=options["citizens"]
            )
            info = demo_prepare(
                citizens=options["citizens"],
                seed=options["seed"],
                progress=lambda done: progress.update(task, completed=done),
            )
        self._print(info, port=options["port"])
        if not options["no_serve"]:
            with background_worker():  # background jobs (record linkage), stopped with the server
                serve(host="127.0.0.1", port=options["port"], workers=2, threads=4)

    def _print(self, info: DemoInfo, *, port: int) -> None:
        base = f"http://localhost:{port}"
        seeded = f"{info.seeded:,} citizens seeded" if info.seeded else "existing data reused"
        lines = [
            f"Motcua demo — tỉnh Đồng Tháp ({seeded})",
            f"  Trang chủ / home:        {base}/",
            f"  Quản trị / admin:        {base}/admin/",
            f"  API docs:                {base}/api/docs",
            f"  Health:                  {base}/healthz",
            f"Demo logins (password: {DEMO_PASSWORD}; then the authenticator's code, "
            f"secret {DEMO_TOTP_SECRET}: `oathtool --totp -b {DEMO_TOTP_SECRET}`):",
            *(f"  {login.username:<17} {login.title}" for login in DEMO_LOGINS),
            f"  Nâng mức định danh:      {base}/id/can-bo/nang-muc/ (canbo.congan)",
            "Công dân đăng nhập qua cổng / citizens sign in at the portal (password as above):",
            *(_citizen_line(c) for c in info.citizens),
            *_registrant_lines(info, base),
            f"Dịch vụ công / public services: {info.services.procedures} thủ tục, "
            f"{info.services.agencies} UBND xã; cán bộ tại {info.services.ward_name}",
            f"  Tìm thủ tục / procedures:  {base}/thu-tuc/",
            f"  Một cửa / back office:     {base}/can-bo/ (motcua.xa, chutich.xa, congan.xa, ...)",
            f"Liên kết dữ liệu / record linkage: {base}/can-bo/lien-ket/ (lamsach.congan)",
            f"  Lượt #{info.linkage.job_id} (GPLX): {info.linkage.records} bản ghi / records, "
            f"{info.linkage.linked} liên kết / linked, {info.linkage.pending} cặp chờ đối soát "
            f"/ pairs to review",
            *_life_event_lines(info, base),
            f"Demo citizen with history: {info.citizen_name}, PIN {info.citizen_pin}",
            f"API key for canbo.hotich (new each run): {info.api_key}",
            f"  curl -H 'Authorization: Bearer {info.api_key}' \\",
            f"    '{base}/api/registry/citizens/{info.citizen_pin}?purpose=demo'",
            "eKYC partner (secret new each run):",
            f"  curl -u '{info.partner.client_id}:{info.partner.client_secret}' \\",
            f"    -d grant_type=client_credentials -d scope=ekyc {base}/o/token/",
            "  curl -H 'Authorization: Bearer TOKEN' -H 'Content-Type: application/json' \\",
            f'    -d \'{{"pin":"{info.citizens[0].pin}","full_name":"{info.citizens[0].name}",\'\\',
            '\'"birth_date":"1980-01-01","purpose":"mo tai khoan"}\' '
            + f"{base}/api/identity/verify",
        ]
        self.stdout.write("\n".join(lines))


def _life_event_lines(info: DemoInfo, base: str) -> list[str]:
    events, portal = info.life_events, info.portal
    level2 = next(c for c in info.citizens if c.level == 2)
    lines = [
        "Hồ sơ liên thông, dịch vụ chủ động / linked packages, proactive services "
        f"(công dân mức 2 / level-2 citizen {level2.name}):",
        f"  Hồ sơ của tôi / my dossiers: {base}/ho-so/ — nộp liên thông / file a package: "
        f"{base}/lien-thong/birth/, {base}/lien-thong/death/",
        f"  Dịch vụ chủ động / offers:   {base}/dich-vu-chu-dong/ "
        f"({events.offers} đang chờ / waiting)",
    ]
    if events.problem:
        lines.append(f"  (not made: {events.problem}; try more --citizens)")
    if events.child:
        lines.append(
            f"  Con mới đăng ký khai sinh / newborn registered: {events.child} — "
            f"{base}/id/tai-khoan/ (giấy tờ / documents)"
        )
    lines += [
        f"  {p.code} {p.applicant_name}: {p.status_label}" + (f" — {p.where}" if p.where else "")
        for p in events.packages
    ]
    lines.append(
        f"  Hàng đợi / queues at {base}/can-bo/: congan.xa, truong.congan.xa (công an xã / "
        "police), bhxh.tinh, giamdoc.bhxh (BHXH tỉnh / social insurance), laodong.tinh, "
        "giamdoc.laodong (lao động – xã hội / labour)"
    )
    if events.made:
        lines.append(
            f"  Bảo hiểm xã hội / insured and pensioners: {events.insured:,}; "
            f"bảo trợ xã hội / social-assistance recipients: {events.assisted:,} "
            f"(admin: {base}/admin/)"
        )
    lines.append(f"Cổng đối tác / partner portal: {portal.name} (API: {base}/api/docs)")
    if portal.credentials is not None:
        lines += [
            f"  client {portal.credentials.client_id}, secret "
            f"{portal.credentials.client_secret} (shown once)",
            f"  webhook {portal.webhook_url} (signing secret {portal.webhook_secret}; "
            "run a receiver there to see the status changes)",
        ]
    elif portal.problem:
        lines.append(f"  not registered: {portal.problem}")
    else:
        lines.append("  registered by an earlier run (its secrets were shown then; reset in admin)")
    return lines


def _registrant_lines(info: DemoInfo, base: str) -> list[str]:
    r = info.registrant
    if r is None:
        return []
    return [
        f"  Đăng ký mức 1 / register: {base}/id/dang-ky/ as {r.name}, PIN {r.pin}, born "
        f"{date.fromisoformat(str(r.birth_date)):%d/%m/%Y}: the code goes to the phone on record "
        f"{r.phone_masked} "
        "(mã in ra log / codes go to the log)",
    ]


def _citizen_line(citizen: DemoCitizen) -> str:
    line = f"  {citizen.pin}  {citizen.name} — mức {citizen.level}"
    if citizen.totp_secret:
        line += f", TOTP secret {citizen.totp_secret} (new each run; e.g. `oathtool --totp -b`)"
    return line


def _production() -> bool:
    """Production settings, by module name or by what only they set (a renamed copy)."""
    return str(settings.SETTINGS_MODULE).endswith(".production") or (
        settings.SESSION_COOKIE_SECURE and settings.SECURE_HSTS_SECONDS > 0
    )


def _public_at(port: int) -> None:
    """The portal and the provider's issuer follow the port, unless MOTCUA_PUBLIC_URL says."""
    if os.environ.get("MOTCUA_PUBLIC_URL"):
        return
    settings.PUBLIC_URL = f"http://localhost:{port}"  # passkeys need a host name, not an IP
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_ISS_ENDPOINT": settings.PUBLIC_URL + "/o",
    }
    oauth2_settings.reload()
