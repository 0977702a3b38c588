"""Error pages in Chinese for people, JSON for the API; never a stack trace.

A request that needs a login and has none goes to the login page and comes back after.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DataError

from server.auth import PasswordChangeRequired
from server.doors import BadLabel

log = logging.getLogger("xuegong")

TITLES = {
    400: "无法处理这个请求",
    401: "请先登录",
    403: "没有权限",
    404: "找不到页面",
    405: "不支持的操作",
    413: "内容太大",
    422: "内容有误",
    429: "操作太频繁",
    500: "服务器出错了",
}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/sync") or "application/json" in request.headers.get(
        "accept", ""
    )


def page(request: Request, status: int, message: str) -> Response:
    if wants_json(request):
        return Response(
            {"error": TITLES.get(status, "错误"), "detail": message},
            status_code=status,
            media_type=MediaType.JSON,
        )
    return Template(
        "error.html",
        context={"status": status, "title": TITLES.get(status, "出错了"), "message": message},
        status_code=status,
    )


def _message(exc: HTTPException, fallback: str) -> str:
    detail = exc.detail or ""
    # Litestar's own English details are not for our users
    return detail if detail and not detail.isascii() else fallback


def not_authorized(request: Request, exc: NotAuthorizedException) -> Response:
    if wants_json(request) or request.method != "GET":
        return page(request, 401, "登录已过期，请重新登录。")
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"{request.app.route_reverse('login')}?{urlencode({'next': target})}")


def permission_denied(request: Request, exc: PermissionDeniedException) -> Response:
    if isinstance(exc, PasswordChangeRequired):
        if wants_json(request):
            return page(request, 403, exc.detail)
        # pages and plain form posts alike go to the form that sets the new password
        return Redirect(request.app.route_reverse("password_form"), status_code=303)
    if "csrf" in (exc.detail or "").lower():
        return page(request, 403, "表单已过期或来源不明，请返回并刷新页面后重新提交。")
    return page(request, 403, _message(exc, "您没有查看这个页面的权限。"))


def not_found(request: Request, exc: NotFoundException) -> Response:
    return page(request, 404, _message(exc, "这个地址不存在，请从首页进入。"))


def bad_label(request: Request, exc: BadLabel) -> Response:
    return page(request, 400, str(exc))


def validation(request: Request, exc: ValidationException) -> Response:
    return page(request, 400, _message(exc, _invalid_parameters(exc)))


def _invalid_parameters(exc: ValidationException) -> str:
    """Litestar lists the parameters that failed (`extra`): name them, in Chinese."""
    names = [
        str(item["key"])
        for item in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(item, dict) and item.get("key") and item.get("source") != "body"
    ]
    if names:
        shown = "、".join(f"“{n}”" for n in dict.fromkeys(names))
        return f"地址中的参数{shown}不正确或超出范围（编号应为正整数，日期如 2026-12-01）。"
    return "提交的内容格式不正确，请检查后重试。"


def http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code >= 500:  # Litestar's own 500s (a misconfiguration) are bugs: log them
        return server_error(request, exc)
    return page(
        request, exc.status_code, _message(exc, TITLES.get(exc.status_code, "请求无法完成。"))
    )


def out_of_range(request: Request, exc: Exception) -> Response:
    """A number or date beyond what Python's dates or the database column can hold.

    Parameters are bounded where they come in (server/params.py); this is the net under
    that, so a value nobody thought of is still the client's mistake and not a 500. Logged,
    because it means a bound is missing somewhere."""
    log.warning("out of range on %s %s: %s", request.method, request.url.path, exc)
    return page(request, 400, "数字或日期超出了可以处理的范围，请检查后重试。")


def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return page(
        request, HTTP_500_INTERNAL_SERVER_ERROR, "服务器遇到了问题，已记录。请返回上一页稍后重试。"
    )


HANDLERS = {
    NotAuthorizedException: not_authorized,
    PermissionDeniedException: permission_denied,
    NotFoundException: not_found,
    BadLabel: bad_label,
    ValidationException: validation,
    HTTPException: http_error,
    OverflowError: out_of_range,  # date arithmetic near 9999-12-31; SQLite's 64-bit ints
    DataError: out_of_range,  # PostgreSQL: a number beyond the column, NUL in text
    Exception: server_error,
}
