"""The notifier's domain exceptions as RFC 9457 problems (installed by the runtime)."""

from __future__ import annotations

from dealerflow.notifier.domain import TaskRuleError
from dealerflow.notifier.domain_receipts import ReceiptUnreadable
from dealerflow.notifier.domain_weather import WeatherWarningRefused
from dealerflow.notifier.usecases_calendar import EventOfAnotherDealer, InvalidPreviewEvent
from dealerflow.notifier.usecases_consent import UnsubscribeLinkInvalid
from dealerflow.notifier.usecases_receipts import ReceiptRouteUnknown, ReceiptSignatureInvalid
from dealerflow.notifier.usecases_tasks import NotYourTask, TaskConflict, TaskNotFound
from dealerflow.runtime.consumer import UnprocessableEvent
from dealerflow.runtime.problems import ProblemMap, ProblemSpec

PROBLEMS: ProblemMap = {
    TaskNotFound: ProblemSpec(404, "not-found", "Task not found"),
    TaskConflict: ProblemSpec(409, "task-not-open", "Conflict"),
    TaskRuleError: ProblemSpec(422, "task-rule", "Task rule violated"),
    NotYourTask: ProblemSpec(403, "not-your-task", "Forbidden"),
    UnsubscribeLinkInvalid: ProblemSpec(404, "unsubscribe-link-invalid", "Not found"),
    ReceiptRouteUnknown: ProblemSpec(404, "receipt-route-unknown", "Not found"),
    ReceiptSignatureInvalid: ProblemSpec(403, "receipt-signature-invalid", "Forbidden"),
    ReceiptUnreadable: ProblemSpec(400, "receipt-unreadable", "Unreadable receipt"),
    WeatherWarningRefused: ProblemSpec(422, "weather-warning-invalid", "Weather warning refused"),
    InvalidPreviewEvent: ProblemSpec(422, "invalid-event", "Not a valid event"),
    EventOfAnotherDealer: ProblemSpec(403, "dealer-not-covered", "Forbidden"),
    UnprocessableEvent: ProblemSpec(422, "unprocessable-event", "The event would be refused"),
}
