"""Partner sharing kernels: leads, release policy, redaction and the partner formats.

Pure functions and dataclasses only (no database, no files): :mod:`.lead` holds what we
know about a lead and what may leave, :mod:`.redact` turns one into the other under a
partner's :class:`~.policy.ReleasePolicy`, and :mod:`.stix`, :mod:`.cot` and
:mod:`.geo` render the releasable lead, never the internal one.
"""
