"""One router per resource; :data:`ROUTERS` lists them in the order they are mounted."""

from plumetrace.api.routes import (
    audit,
    auth,
    ingest,
    leads,
    map,
    organizations,
    partner,
    sites,
    taxii,
    users,
)

ROUTERS = (
    auth.router,
    sites.router,
    ingest.router,
    organizations.router,
    audit.router,
    users.router,
    leads.router,
    partner.router,
    taxii.router,
    map.router,
)

__all__ = ["ROUTERS"]
