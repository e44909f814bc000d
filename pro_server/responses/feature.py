"""Responses have no routes of their own: participants submit through participant_web,
staff read them through the dashboard, the EDC pulls them through edc."""
