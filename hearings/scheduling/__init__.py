"""Sessions, participants, conflicts, availability, recurrence and the audit trail."""
