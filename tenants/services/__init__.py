"""The one place that writes shops, people, memberships, invitations and tokens.

Views, tasks, commands and the console call these; models stay thin.
"""
