"""Names shared by the scope managers."""

#: Attribute under which a task or greenlet stores its active scope.
ACTIVE_ATTR = "__ot_active"
