"""What loyalty refuses, each with a stable code: one class per refusal."""

from __future__ import annotations

from errors import N_, Conflict, Forbidden, InvalidInput, NotFound


class UnknownCustomer(NotFound):
    """No customer of this company has this QR code, phone number or e-mail."""

    code = "unknown_customer"
    message = N_("No customer found with this code, phone number or e-mail.")


class BadLookup(InvalidInput):
    """Give exactly one of a QR token, a phone number or an e-mail to find a customer."""

    code = "bad_lookup"
    message = N_("Scan the customer's code, or give their phone number or e-mail.")


class LoyaltyOff(Forbidden):
    """The company's loyalty programme is switched off."""

    code = "loyalty_off"
    status = 409
    message = N_("The loyalty programme is switched off.")


class RewardUnavailable(NotFound):
    """No such reward, or it is no longer offered."""

    code = "reward_unavailable"
    message = N_("This reward is not offered any more.")


class ContactNeeded(Forbidden):
    """The company asks for an e-mail or a phone number before a customer redeems."""

    code = "contact_needed"
    status = 409
    message = N_("Add the customer's e-mail or phone number before they take a reward.")


class NotEnoughPoints(Conflict):
    """The customer's balance does not cover the reward; nothing was taken."""

    code = "not_enough_points"
    message = N_("Not enough points for this reward; nothing was taken.")


class KeyReused(Conflict):
    """This idempotency key was already used for another customer, reward or coupon."""

    code = "key_reused"
    message = N_("This request was already made for something else; start again.")


class UnknownCoupon(NotFound):
    """No coupon of this company has this code."""

    code = "unknown_coupon"
    message = N_("This coupon does not exist.")


class CouponUsed(Conflict):
    """The coupon was used already (perhaps at another till a moment ago)."""

    code = "coupon_used"
    message = N_("This coupon was already used.")


class CouponExpired(Conflict):
    """The coupon's expiry date has passed."""

    code = "coupon_expired"
    status = 410
    message = N_("This coupon has expired.")


class PhoneTaken(Conflict):
    """Another customer of this company already gave this phone number."""

    code = "phone_taken"
    field = "phone"
    message = N_("Another customer already uses this phone number.")


class UnknownTrigger(NotFound):
    """No coupon trigger of this company has this id."""

    code = "unknown_trigger"
    message = N_("This coupon trigger does not exist.")


class BadPhone(InvalidInput):
    """A phone number holds digits (6 to 15), spaces, dots, hyphens, brackets and a leading +."""

    code = "bad_phone"
    field = "phone"
    message = N_("Give a phone number of 6 to 15 digits, e.g. +33 6 12 34 56 78.")


class BadBirthday(InvalidInput):
    """A birthday is a real date, in the past, after 1900."""

    code = "bad_birthday"
    field = "birthday"
    message = N_("Give your birthday as a date in the past, e.g. 1990-04-02.")


class BadPostcode(InvalidInput):
    """A postcode holds 2 to 12 letters, digits, spaces or hyphens."""

    code = "bad_postcode"
    field = "postcode"
    message = N_("Give a postcode of 2 to 12 letters or digits.")


class BadUnsubscribeLink(NotFound):
    """The unsubscribe link is garbled, forged, or names nobody any more."""

    code = "bad_unsubscribe_link"
    message = N_("This unsubscribe link is not valid. Open your customer space to choose "
                 "what you receive.")


class SpaceSignInNeeded(Forbidden):
    """The customer space's changes need the customer's own session on this browser."""

    code = "space_sign_in_needed"
    status = 401
    message = N_("Sign in to your customer account to see your points.")


class UnknownCampaign(NotFound):
    """No campaign of this company has this number."""

    code = "unknown_campaign"
    message = N_("This campaign does not exist, or no longer.")


class CampaignNotNow(Conflict):
    """The campaign's status does not allow this (e.g. deleting a sent campaign)."""

    code = "campaign_not_now"
    message = N_("This campaign cannot do that now: see its state.")


class SendTimeInPast(InvalidInput):
    """A scheduled send is in the future, in the venue's time zone."""

    code = "send_time_in_past"
    field = "send_at"
    message = N_("Choose a date and time to come, in the venue's time zone.")


class BadBlocks(InvalidInput):
    """The e-mail's blocks are not what the editor makes."""

    code = "bad_blocks"
    field = "blocks"
    message = N_("Check the e-mail's blocks: each needs its text, and links start with https://.")


class CampaignIncomplete(InvalidInput):
    """What a campaign needs before it goes: a subject and blocks, a text, or a reward."""

    code = "campaign_incomplete"
    message = N_("This campaign is not ready to go: an e-mail needs a subject and a block, "
                 "an SMS its text, a coupon a reward.")


class AutomaticSendUsed(Conflict):
    """An automatic send that sent messages is kept with its results: switched off, not
    deleted."""

    code = "automatic_send_used"
    message = N_("This automatic send has sent messages: switch it off instead, it keeps "
                 "its results.")


class BadTrigger(InvalidInput):
    """An automatic send's trigger: every 1 to 365 visits or days, at most 90 days before a
    birthday."""

    code = "bad_trigger"
    message = N_("Choose when it goes: every 1 to 365 visits, 1 to 365 days of absence, "
                 "or 1 to 90 days before the birthday.")


class UnknownSegment(NotFound):
    """No segment of this company has this id."""

    code = "unknown_segment"
    message = N_("This segment does not exist.")


class SegmentInUse(Conflict):
    """A campaign not yet sent names the segment: choose another segment for it, or cancel
    or delete it, before deleting the segment."""

    code = "segment_in_use"
    message = N_("The campaign « %(campaign)s » is to be sent to this segment: choose another "
                 "segment for it first.")
