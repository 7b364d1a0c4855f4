"""String enums of the dealership vocabulary used in events.

Values are lower_snake_case strings on the wire. Adding a value is a compatible change;
removing or renaming one is not (the compatibility gate refuses it), so consumers must be
ready to treat a value they do not know as "other".
"""

from __future__ import annotations

from enum import StrEnum


class LeadGrade(StrEnum):
    """Intent grade of a lead: N new, H order within 7 days, A within 15, B within 30,
    C within 90, O contract signed not delivered, D delivered, F lost."""

    N = "N"
    H = "H"
    A = "A"
    B = "B"
    C = "C"
    O = "O"  # noqa: E741 - the handbook's letter
    D = "D"
    F = "F"


class LeadChannel(StrEnum):
    """How a lead reached the dealer; drives the first-contact SLA (online: 15 minutes of
    business hours; walk-in and phone: thank-you within 2 h, first call within 24 h)."""

    ONLINE = "online"
    WALK_IN = "walk_in"
    PHONE = "phone"


class LeadSource(StrEnum):
    """Where a lead came from (marketing attribution)."""

    SHOWROOM = "showroom"
    HOTLINE = "hotline"
    WEBSITE = "website"
    APP = "app"
    WECHAT = "wechat"
    AUTO_PORTAL = "auto_portal"
    OEM = "oem"
    REFERRAL = "referral"
    DEALER_EVENT = "dealer_event"
    SERVICE_CUSTOMER = "service_customer"
    EXISTING_OWNER = "existing_owner"
    SURVEY = "survey"
    OTHER = "other"


class VehicleUse(StrEnum):
    """What the customer mainly wants the vehicle for."""

    FAMILY = "family"
    COMMUTE = "commute"
    BUSINESS = "business"
    OTHER = "other"


class VehicleType(StrEnum):
    """Body or powertrain type the customer is interested in (NEV = new-energy vehicle)."""

    SEDAN = "sedan"
    SUV = "suv"
    MPV = "mpv"
    NEV = "nev"
    OTHER = "other"


class PurchaseHorizon(StrEnum):
    """When the customer expects to buy."""

    WITHIN_7_DAYS = "within_7_days"
    WITHIN_15_DAYS = "within_15_days"
    WITHIN_30_DAYS = "within_30_days"
    WITHIN_90_DAYS = "within_90_days"
    LATER = "later"
    UNKNOWN = "unknown"


class ContactChannel(StrEnum):
    """A way a customer prefers to be, or was, contacted."""

    PHONE = "phone"
    SMS = "sms"
    WECHAT = "wechat"
    EMAIL = "email"
    IN_PERSON = "in_person"


class MessageChannel(StrEnum):
    """A channel the notifier can send customer messages through."""

    SMS = "sms"
    WECHAT = "wechat"
    EMAIL = "email"
    WEBHOOK = "webhook"


class ConsentPurpose(StrEnum):
    """Purpose a customer consents to be contacted for."""

    SERVICE = "service"
    MARKETING = "marketing"


class Locale(StrEnum):
    """Language for customer messages."""

    ZH_CN = "zh-CN"
    EN = "en"


class ContactOutcome(StrEnum):
    """Result of one contact attempt with a lead (the daily visit report)."""

    REACHED = "reached"
    UNREACHABLE = "unreachable"
    WRONG_NUMBER = "wrong_number"
    CALLBACK_REQUESTED = "callback_requested"


class LeadUpdateReason(StrEnum):
    """Why a lead record changed."""

    EDITED = "edited"
    NEW_TOUCH = "new_touch"
    RE_ENGAGED = "re_engaged"


class AssignmentReason(StrEnum):
    """Why a lead or complaint got its (new) assignee."""

    INITIAL = "initial"
    MANUAL = "manual"
    SLA_BREACH = "sla_breach"
    STAFF_UNAVAILABLE = "staff_unavailable"


class AppointmentPurpose(StrEnum):
    """What a sales appointment (invitation) is for."""

    STORE_VISIT = "store_visit"
    TEST_DRIVE = "test_drive"
    DELIVERY = "delivery"


class CancelledBy(StrEnum):
    """Which side cancelled."""

    CUSTOMER = "customer"
    DEALER = "dealer"


class LostReason(StrEnum):
    """Why a lead was lost ("defeated")."""

    BOUGHT_ELSEWHERE = "bought_elsewhere"
    POSTPONED = "postponed"
    PRICE = "price"
    UNREACHABLE = "unreachable"
    OTHER = "other"


class VisitKind(StrEnum):
    """First or return showroom visit."""

    FIRST = "first"
    RETURN = "return"


class PaymentKind(StrEnum):
    """What a payment settles."""

    DEPOSIT = "deposit"
    BALANCE = "balance"
    FULL = "full"
    LOAN_DISBURSEMENT = "loan_disbursement"


class PaymentMethod(StrEnum):
    """How money was paid."""

    CASH = "cash"
    BANK_CARD = "bank_card"
    BANK_TRANSFER = "bank_transfer"
    WECHAT_PAY = "wechat_pay"
    ALIPAY = "alipay"
    LOAN = "loan"


class DeliveryDocument(StrEnum):
    """Documents handed to the customer at delivery."""

    CERTIFICATE_OF_CONFORMITY = "certificate_of_conformity"
    INVOICE = "invoice"
    MAINTENANCE_MANUAL = "maintenance_manual"
    WARRANTY_CARD = "warranty_card"
    KEYS = "keys"


class ServiceWorkType(StrEnum):
    """Classification of after-sales work."""

    MAINTENANCE = "maintenance"
    REPAIR = "repair"
    WARRANTY = "warranty"
    BODYWORK = "bodywork"
    ACCESSORY_DETAILING = "accessory_detailing"


class IntakeChannel(StrEnum):
    """How a service appointment was booked."""

    PHONE = "phone"
    ONLINE = "online"
    ON_SITE = "on_site"


class RepairItemKind(StrEnum):
    """Line type of a repair quote."""

    LABOUR = "labour"
    PART = "part"


class PartCategory(StrEnum):
    """Stock category of a part."""

    COMMON = "common"
    SEASONAL = "seasonal"
    SPECIAL = "special"
    SCRAP = "scrap"


class ApprovalMethod(StrEnum):
    """How the customer authorised repair work."""

    SIGNATURE = "signature"
    PHONE = "phone"
    WECHAT = "wechat"
    ONLINE = "online"


class MaintenanceReason(StrEnum):
    """Why maintenance falls due."""

    FIRST_MAINTENANCE = "first_maintenance"
    PERIODIC = "periodic"
    DECLINED_ITEM = "declined_item"


class RetentionLevel(StrEnum):
    """Retention risk: at_risk after 12 months without a visit, lost after 24."""

    AT_RISK = "at_risk"
    LOST = "lost"


class ServiceTier(StrEnum):
    """After-sales tier by visits a year: A >= 4, B 2-3, C 1, D none for a year."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class CustomerTier(StrEnum):
    """Customer tier by purchases, service spend and referrals (the notifier's tier rules):
    VIP above key above regular; complaints shorten SLAs by tier."""

    VIP = "vip"
    KEY = "key"
    REGULAR = "regular"
