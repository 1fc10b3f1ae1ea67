"""Scheduled work: indicator reminders and the yearly report, overdue-case nudges, retention."""
