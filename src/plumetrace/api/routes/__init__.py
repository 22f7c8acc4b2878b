"""One router per resource; :data:`ROUTERS` lists them in the order they are mounted."""

from plumetrace.api.routes import audit, auth, ingest, organizations, sites, users

ROUTERS = (
    auth.router,
    sites.router,
    ingest.router,
    organizations.router,
    audit.router,
    users.router,
)

__all__ = ["ROUTERS"]
