"""Meetings of the MERL Thematic Working Group: agenda, attendance, decisions and the actions they
give people, linked to returns, indicators, report recommendations and evidence."""
