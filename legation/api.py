"""The django-ninja API root under /api/v1/: token (Bearer) or session authentication, same permissions as the UI."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from ninja import NinjaAPI
from ninja.security import HttpBearer, django_auth

from legation.network.services import person_for_token


class TokenAuth(HttpBearer):
    """``Authorization: Bearer lgn_...`` with a personal API token."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        person = person_for_token(token)
        if person is not None:
            request.user = person
            if person.language:  # answers, refusals included, in the person's language
                translation.activate(person.language)
        return person


api = NinjaAPI(
    title="Legation API",
    version="1",
    urls_namespace="api-v1",
    auth=[TokenAuth(), django_auth],
    docs_url="/docs",
)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        detail = [{"loc": ["body", field], "msg": " ".join(msgs)} for field, msgs in exc.message_dict.items()]
    else:
        detail = [{"loc": ["body"], "msg": " ".join(exc.messages)}]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "forbidden"}, status=403)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "not found"}, status=404)


def _add_routers() -> None:
    from legation.guidance.api import router as guidance_router
    from legation.listening.api import router as listening_router
    from legation.network.api import router as network_router
    from legation.publishing.api import router as publishing_router
    from legation.records.api import router as records_router

    api.add_router("/", network_router)
    api.add_router("/ledger", records_router)
    api.add_router("/guidance", guidance_router)
    api.add_router("/listening", listening_router)
    api.add_router("/posts", publishing_router)


_add_routers()
