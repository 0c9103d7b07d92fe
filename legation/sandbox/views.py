"""The sandbox's pages: a timeline, profiles, and acting as a member of the public.

Only people signed in to Legation reach them: the sandbox is for practice, not a public site on the ministry's
server.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from legation.sandbox import services
from legation.sandbox.models import Member, Post

SESSION_KEY = "sandbox_member"


def _me(request: HttpRequest) -> Member | None:
    member_id = request.session.get(SESSION_KEY)
    return Member.objects.filter(pk=member_id).first() if member_id else None


def _posts() -> object:
    return (Post.objects.filter(deleted_at__isnull=True).select_related("author", "reply_to__author")
            .annotate(n_replies=Count("replies", filter=Q(replies__deleted_at__isnull=True))))


@login_required
def timeline(request: HttpRequest) -> HttpResponse:
    tag = request.GET.get("tag", "").strip().lstrip("#")
    posts = _posts()
    if tag:
        posts = posts.filter(text__icontains=f"#{tag}")  # type: ignore[attr-defined]
    page = list(posts[:100])  # type: ignore[index]
    Post.objects.filter(pk__in=[p.pk for p in page]).update(views=F("views") + 1)
    return render(request, "sandbox/timeline.html", {
        "posts": page, "me": _me(request), "tag": tag,
        "officials": Member.objects.filter(posts__isnull=False).distinct().order_by("handle")[:50],
    })


@login_required
def profile(request: HttpRequest, handle: str) -> HttpResponse:
    member = get_object_or_404(Member, handle="@" + handle.lstrip("@"))
    posts = _posts().filter(author=member)[:100]  # type: ignore[attr-defined]
    return render(request, "sandbox/profile.html", {"member": member, "posts": posts, "me": _me(request)})


@login_required
def post_detail(request: HttpRequest, post_id: int) -> HttpResponse:
    post = get_object_or_404(Post.objects.select_related("author"), pk=post_id)
    replies = _posts().filter(reply_to=post).order_by("id")  # type: ignore[attr-defined]
    return render(request, "sandbox/post.html", {"post": post, "replies": replies, "me": _me(request)})


@login_required
@require_POST
def join(request: HttpRequest) -> HttpResponse:
    try:
        member = services.join(request.POST.get("handle", ""), request.POST.get("display_name", ""))
    except ValidationError as exc:
        return render(request, "sandbox/error.html", {"errors": exc.messages}, status=400)
    request.session[SESSION_KEY] = member.pk
    return redirect(request.POST.get("next") or "sandbox:timeline")


@login_required
@require_POST
def act(request: HttpRequest) -> HttpResponse:
    """Post, reply, repost, like or message, as the member of the public chosen in this browser."""
    me = _me(request)
    action = request.POST.get("action", "")
    back = request.POST.get("next") or "/sandbox/"
    try:
        if action == "like":
            services.like(get_object_or_404(Post, pk=request.POST.get("post")))
        elif action == "sms":
            services.sms(request.POST.get("from_number", ""), request.POST.get("to_number", ""),
                         request.POST.get("text", ""))
        elif me is None:
            raise ValidationError({"handle": "choose a name first"})
        elif action == "post":
            services.post(me, request.POST.get("text", ""))
        elif action == "reply":
            parent = get_object_or_404(Post, pk=request.POST.get("post"))
            services.post(me, request.POST.get("text", ""), reply_to=parent)
        elif action == "repost":
            services.repost(me, get_object_or_404(Post, pk=request.POST.get("post")))
        elif action == "message":
            recipient = get_object_or_404(Member, handle=request.POST.get("recipient", ""))
            services.message(me, recipient, request.POST.get("text", ""))
        else:
            raise ValidationError({"action": f"unknown action '{action}'"})
    except ValidationError as exc:
        return render(request, "sandbox/error.html", {"errors": exc.messages}, status=400)
    return redirect(back)
