"""Every way a OneConnect call can fail, as one exception tree::

    OneConnectError
    ├── TransportError              no usable answer arrived
    │   ├── ConnectError            the request never reached the server (safe to retry)
    │   └── RequestTimeout          no answer in time
    ├── OutcomeUnknownError         a write may or may not have taken effect
    │   └── SendOutcomeUnknownError an SMS send: never replayed, look it up by reference
    ├── HTTPStatusError             an HTTP error status
    │   ├── AuthenticationError     401: wrong e-mail or API key
    │   ├── PermissionDeniedError   403: client IP not on the account's allow-list
    │   ├── NotFoundError           404
    │   ├── RateLimitError          429 (``retry_after`` seconds)
    │   └── ServerError             5xx
    ├── APIError                    OneConnect refused the request (``error_code``, ``errors``)
    │   ├── ValidationError         ``{"errors": [...]}`` without a code
    │   └── one class per documented code: NoBalanceError (1000), ContentRequiredError
    │       (1001), RecipientsRequiredError (1002), SmsDateRequiredError (1004),
    │       InvalidDatetimeError (1005), ContentTooLongError (1010), InvalidGendersError
    │       (2005), ScheduleRequiredError (3010), InvalidDatesError (3011),
    │       TwoDatesRequiredError (3012), InvalidRepeatError (3013), InvalidCampaignListsError
    │       (3020), InvalidPhoneNumberError (4004), InvalidBirthdayCampaignListsError (4020)
    ├── ResponseError               an answer that is not what the contract promises
    │                               (``resource``, ``record_id``, ``field`` when a record)
    ├── PaginationError             a server repeating pages or never ending
    └── ClientClosedError           the client was closed before the call could end

Messages name the call (``POST /contacts``) but never credentials (the client scrubs its
key, e-mail and Basic token from whatever a server echoes), and phone numbers, dates and
e-mail addresses in them are masked. Raw httpx exceptions never escape the client.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oneconnect_pipelines.masking import mask_query, mask_text


class OneConnectError(Exception):
    """Root of every error the client raises."""

    def __init__(self, message: str, *, call: str = "") -> None:
        path, query, values = call.partition("?")  # query values may be personal data
        self.call = path + query + mask_query(values)
        call = self.call
        self.message = mask_text(message)
        super().__init__(f"{call}: {self.message}" if call else self.message)


class TransportError(OneConnectError):
    """No usable answer arrived (connection refused or dropped, timeout)."""


class ConnectError(TransportError):
    """The request never reached the server, so nothing can have happened."""


class RequestTimeout(TransportError):
    """The server did not answer in time."""


class OutcomeUnknownError(OneConnectError):
    """A write was sent but its answer was lost: it may or may not have taken effect."""


class SendOutcomeUnknownError(OutcomeUnknownError):
    """An SMS send whose answer was lost. It is never replayed (that could send twice);
    ``reference`` identifies it in delivery reports and support requests."""

    def __init__(self, message: str, *, call: str = "", reference: str) -> None:
        super().__init__(message, call=call)
        self.reference = reference


class HTTPStatusError(OneConnectError):
    """The server answered with an HTTP error status."""

    def __init__(self, message: str, *, call: str = "", status_code: int, body: str = "") -> None:
        super().__init__(message, call=call)
        self.status_code = status_code
        #: OneConnect answers these statuses with the status as its ``error_code`` too.
        self.error_code = status_code
        self.body = mask_text(body[:500])


class AuthenticationError(HTTPStatusError):
    """401: the account e-mail or API key is wrong."""


class PermissionDeniedError(HTTPStatusError):
    """403: this client's IP address is not on the account's allow-list."""


class NotFoundError(HTTPStatusError):
    """404: no such record."""


class RateLimitError(HTTPStatusError):
    """429: too many requests; ``retry_after`` is the server's advice in seconds."""

    def __init__(
        self,
        message: str,
        *,
        call: str = "",
        status_code: int = 429,
        body: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, call=call, status_code=status_code, body=body)
        self.retry_after = retry_after


class ServerError(HTTPStatusError):
    """5xx: the server failed."""


class APIError(OneConnectError):
    """OneConnect refused the request: ``error_code`` (0 when none) and ``errors``."""

    code: int = 0

    def __init__(
        self,
        message: str,
        *,
        call: str = "",
        error_code: int = 0,
        errors: Sequence[str] = (),
        status_code: int = 422,
    ) -> None:
        super().__init__(message, call=call)
        self.error_code = error_code
        self.errors = [mask_text(error) for error in errors]
        self.status_code = status_code


class ValidationError(APIError):
    """``{"errors": [...]}``: fields that failed validation."""


class NoBalanceError(APIError):
    code = 1000


class ContentRequiredError(APIError):
    code = 1001


class RecipientsRequiredError(APIError):
    code = 1002


class SmsDateRequiredError(APIError):
    code = 1004


class InvalidDatetimeError(APIError):
    code = 1005


class ContentTooLongError(APIError):
    code = 1010


class InvalidGendersError(APIError):
    code = 2005


class ScheduleRequiredError(APIError):
    code = 3010


class InvalidDatesError(APIError):
    code = 3011


class TwoDatesRequiredError(APIError):
    code = 3012


class InvalidRepeatError(APIError):
    code = 3013


class InvalidCampaignListsError(APIError):
    code = 3020


class InvalidPhoneNumberError(APIError):
    code = 4004


class InvalidBirthdayCampaignListsError(APIError):
    code = 4020


class ResponseError(OneConnectError):
    """The answer is not what the contract promises (not JSON, wrong shape). For a record
    the client cannot read: which ``resource`` (``"contact"``), its ``record_id`` and the
    ``field`` (``"birthday"``, ``"schedule.dates[0]"``) when known; never its values."""

    def __init__(
        self,
        message: str,
        *,
        call: str = "",
        resource: str | None = None,
        record_id: Any = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, call=call)
        self.resource = resource
        self.record_id = record_id
        self.field = field


class PaginationError(OneConnectError):
    """The server repeated a page or never ended: stopped rather than loop or duplicate."""


class ClientClosedError(OneConnectError):
    """The client was closed (``close()``, or the end of its ``with`` block) while this
    call waited or before it started: a listing read from another thread, a retry."""


#: The class for each documented ``error_code``.
ERROR_CLASSES: dict[int, type[APIError]] = {
    cls.code: cls
    for cls in (
        NoBalanceError,
        ContentRequiredError,
        RecipientsRequiredError,
        SmsDateRequiredError,
        InvalidDatetimeError,
        ContentTooLongError,
        InvalidGendersError,
        ScheduleRequiredError,
        InvalidDatesError,
        TwoDatesRequiredError,
        InvalidRepeatError,
        InvalidCampaignListsError,
        InvalidPhoneNumberError,
        InvalidBirthdayCampaignListsError,
    )
}

STATUS_CLASSES: dict[int, type[HTTPStatusError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}
