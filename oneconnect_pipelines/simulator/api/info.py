"""``/balance``, ``/pricing`` and the SMS authenticator ``/mfa/sms_auth``."""

from __future__ import annotations

import random
import string

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..engine import Platform
from ..http import Form, coded, invalid, json_response
from ..plans import PLANS
from .contacts import PHONE
from .messages import send_now


def routes(platform: Platform) -> list[Route]:
    codes = random.Random(platform.account.seed)

    async def balance(request: Request) -> Response:
        return json_response({"sms_balance": platform.account.sms_balance})

    async def pricing(request: Request) -> Response:
        return json_response([plan.record() for plan in PLANS.values()])

    async def sms_auth(request: Request) -> Response:
        form = await Form.read(request)
        number = form.text("phone_number")
        if not number or not PHONE.match(number):
            raise coded(4004)
        length = form.integer("length", invalid("length must be an integer"))
        length = 4 if length is None else length
        if not 1 <= length <= 32:
            raise invalid("length must be between 1 and 32")
        if form.boolean("only_numbers", default=False):
            alphabet = string.digits
        elif form.boolean("only_uppercase", default=False):
            alphabet = string.ascii_uppercase + string.digits
        else:
            alphabet = string.ascii_letters + string.digits
        code = "".join(codes.choice(alphabet) for _ in range(length))
        send_now(platform, [number], f"Your verification code is {code}", None, None)
        return json_response({"code": code, "phone_number": number})

    return [
        Route("/balance", balance, methods=["GET"]),
        Route("/pricing", pricing, methods=["GET"]),
        Route("/mfa/sms_auth", sms_auth, methods=["POST"]),
    ]
