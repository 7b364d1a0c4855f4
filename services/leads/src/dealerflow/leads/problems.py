"""The leads service's domain exceptions as RFC 9457 problems (installed by the runtime;
the inbound consumer dead-letters a submission refused with any of them)."""

from __future__ import annotations

from dealerflow.leads.domain import LeadRejected
from dealerflow.leads.domain_appointments import AppointmentEnded, AppointmentRefused
from dealerflow.leads.domain_merge import MergeRefused
from dealerflow.leads.usecases import (
    LeadClosed,
    LeadConflict,
    LeadNotFound,
    NoConsultantOnDuty,
)
from dealerflow.leads.usecases_appointments import AppointmentNotFound
from dealerflow.leads.usecases_edit import InvalidLeadEdit
from dealerflow.leads.usecases_invitation import DeclinedInvitationStands, InvalidAppointment
from dealerflow.leads.usecases_lifecycle import InvalidContactLogEntry
from dealerflow.leads.usecases_reports import InvalidPeriod, OthersWorklist
from dealerflow.runtime.problems import ProblemMap, ProblemSpec

PROBLEMS: ProblemMap = {
    LeadNotFound: ProblemSpec(404, "not-found", "Lead not found"),
    # InvalidGradeTransition and the intake refusals are LeadRejected too
    LeadRejected: ProblemSpec(422, "lead-rejected", "Lead rejected"),
    InvalidAppointment: ProblemSpec(422, "invalid-appointment", "Lead rejected"),
    InvalidContactLogEntry: ProblemSpec(
        422, "invalid-contact-log-entry", "Invalid contact log entry"
    ),
    LeadConflict: ProblemSpec(409, "conflict", "Conflict"),
    LeadClosed: ProblemSpec(409, "lead-closed", "Conflict"),
    NoConsultantOnDuty: ProblemSpec(409, "no-consultant-on-duty", "Conflict"),
    DeclinedInvitationStands: ProblemSpec(409, "invitation-declined", "Conflict"),
    OthersWorklist: ProblemSpec(403, "not-your-worklist", "Forbidden"),
    InvalidPeriod: ProblemSpec(422, "invalid-period", "Invalid period"),
    InvalidLeadEdit: ProblemSpec(422, "invalid-lead-edit", "Invalid lead edit"),
    MergeRefused: ProblemSpec(409, "merge-refused", "Conflict"),
    AppointmentNotFound: ProblemSpec(404, "appointment-not-found", "Appointment not found"),
    AppointmentRefused: ProblemSpec(422, "invalid-appointment", "Lead rejected"),
    AppointmentEnded: ProblemSpec(409, "appointment-ended", "Conflict"),
}
