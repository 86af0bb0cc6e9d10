"""A customer's phone number as an SMS needs it, pure: E.164 (+33612345678), mobiles only.

Numbers are kept as customers typed them (loyalty.service.phone_digits: digits and a
leading +). Written nationally ("06 12 34 56 78") they are French, or of an overseas
department, whose mobiles are dialled with a 0 too but have their own country codes
(0692 → +262 692…). `phonenumbers` (Google's libphonenumber data, maintained) knows which
ranges are mobiles: a landline cannot take an SMS, so it is refused before it costs a credit.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from loyalty.sms_errors import BadPhoneNumber

# Metropolitan France first, then the overseas departments that share its national format.
NATIONAL_REGIONS = ("FR", "RE", "YT", "GP", "MQ", "GF")
MOBILE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def e164(number: str) -> str:
    """The mobile number in E.164, or BadPhoneNumber."""
    for region in NATIONAL_REGIONS:
        try:
            parsed = phonenumbers.parse(number, region)
        except NumberParseException:
            break  # not a number at all, in any region
        if phonenumbers.is_valid_number(parsed):
            if phonenumbers.number_type(parsed) not in MOBILE:
                break
            return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
        if number.strip().startswith("+"):
            break  # an international number does not depend on the region tried
    raise BadPhoneNumber()
