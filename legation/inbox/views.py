from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from legation.connectors.base import ConnectorError, WebhookRejected, WebhookRequest
from legation.inbox import services
from legation.inbox.models import InboundMessage
from legation.inbox.tasks import read_new_messages
from legation.listening.models import CrisisCategory
from legation.network.models import OfficialAccount
from legation.network.permissions import Action, may, path_filter
from legation.web.context import current_unit

logger = logging.getLogger(__name__)
MAX_WEBHOOK_BYTES = 1024 * 1024


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    unit = current_unit(request)
    query = path_filter(request.user, Action.ACCOUNT_VIEW, "unit_path")
    items = InboundMessage.objects.select_related("account")
    if query is not None:
        items = items.filter(query)
    if unit is not None:
        items = items.filter(unit_path__startswith=unit.path)
    account_id = request.GET.get("account", "")
    if account_id.isdecimal() and int(account_id) < 2**63:  # a larger number is no row's id (and overflows)
        items = items.filter(account_id=int(account_id))
    category = request.GET.get("category", "")
    if category in CrisisCategory.values:
        items = items.filter(crisis_category=category)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    accounts = OfficialAccount.objects.filter(unit__path__startswith=unit.path if unit else "/none/")
    return render(request, "inbox/inbox.html", {"page": page, "accounts": accounts, "account_id": account_id,
                                                "categories": CrisisCategory.choices, "category": category})


def _ask_the_models_to_read() -> None:
    """Have the worker read what was just stored (the web request never loads the models). A queue that cannot
    take the task (Redis down) costs nothing stored: the worker's every-minute run reads it then."""
    try:
        read_new_messages.enqueue()
    except Exception:  # noqa: BLE001
        logger.exception("could not ask the worker to read new messages; its periodic run will")


@login_required
@require_POST
def pull_now(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(OfficialAccount.objects.select_related("unit"), pk=account_id)
    if not may(request.user, Action.ACCOUNT_VIEW, account.unit):  # type: ignore[arg-type]
        raise PermissionDenied
    total = 0
    try:
        for stream in services.streams_for(account):
            total += services.pull_all(account, stream)
        if total:
            _ask_the_models_to_read()
        messages.success(request, ngettext("%(n)d new item.", "%(n)d new items.", total) % {"n": total})
    except ConnectorError as exc:
        messages.error(request, _("The platform refused: %(error)s") % {"error": exc.message})
    return redirect(request.POST.get("next") or "inbox:inbox")


@csrf_exempt  # platforms cannot send a CSRF token; each delivery's signature is checked by the provider instead
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, key: str) -> HttpResponse:
    account = OfficialAccount.objects.select_related("unit").filter(webhook_key=key).first()
    if account is None:
        return HttpResponse("unknown webhook", status=404, content_type="text/plain")
    if int(request.headers.get("Content-Length") or 0) > MAX_WEBHOOK_BYTES:
        logger.warning("webhook for %s refused: body over %d bytes", account, MAX_WEBHOOK_BYTES)
        return HttpResponse("payload too large", status=413, content_type="text/plain")
    inbound = WebhookRequest(
        method=request.method or "POST", url=request.build_absolute_uri(),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=request.body, query={k: str(v) for k, v in request.GET.items()},
    )
    try:
        stored, body, content_type = services.receive_webhook(account, inbound)
        if stored:
            _ask_the_models_to_read()
    except WebhookRejected as exc:
        logger.warning("webhook for %s refused: %s", account, exc.message)
        return HttpResponse(exc.message, status=exc.status or 403, content_type="text/plain")
    except ConnectorError as exc:
        logger.warning("webhook for %s not understood: %s", account, exc.message)
        return HttpResponse(exc.message, status=400, content_type="text/plain")
    return HttpResponse(body if body is not None else "ok", content_type=content_type)
