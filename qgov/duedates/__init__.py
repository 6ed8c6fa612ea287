"""Due dates and reminders: any record with an expiry or a deadline declares it on its model
(`due_dates = (DueDate(...),)`); the core sends the reminders, lists what is due soon and shows
it on the dashboard. docs/due-dates.md describes it."""

from qgov.duedates.declaration import DueDate, declaration_problems, declared_due_dates, declaring_models, type_key

__all__ = ["DueDate", "declaration_problems", "declared_due_dates", "declaring_models", "type_key"]
