"""Access control of the workbench: actions, roles, the policy check, passwords, sessions, audit.

Pure logic on plain dataclasses, without Streamlit or a database, so the whole policy can be
tested as a table. Import from the submodules: ``permissions.policy.check``,
``permissions.actions.Action``, ``permissions.passwords.hash_password`` and so on.
"""
