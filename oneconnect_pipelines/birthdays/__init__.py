"""Birthday campaigns, one per target list: how their text travels as SMS (``sms``),
what should change in the account (``plan``, pure), and carrying that out (``apply``)."""

from .apply import AppliedCampaign, BirthdayResult, Outcome, apply_birthday_plan, plan_markdown
from .plan import (
    Action,
    BirthdayCampaignSpec,
    BirthdayPlan,
    PlannedCampaign,
    campaign_name,
    plan_birthday_campaigns,
)
from .sms import (
    DEFAULT_CONTENT,
    DEFAULT_NAME_FORMAT,
    DEFAULT_SENDER,
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_CONTENT,
    ContentCheck,
    check_content,
    gsm7_septets,
    is_gsm7,
)

__all__ = [
    "DEFAULT_CONTENT",
    "DEFAULT_NAME_FORMAT",
    "DEFAULT_SENDER",
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "MAX_CONTENT",
    "Action",
    "AppliedCampaign",
    "BirthdayCampaignSpec",
    "BirthdayPlan",
    "BirthdayResult",
    "ContentCheck",
    "Outcome",
    "PlannedCampaign",
    "apply_birthday_plan",
    "campaign_name",
    "check_content",
    "gsm7_septets",
    "is_gsm7",
    "plan_birthday_campaigns",
    "plan_markdown",
]
