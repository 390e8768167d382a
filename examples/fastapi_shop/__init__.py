"""A small FastAPI service that emits one audit event per request with ``AuditMiddleware``."""
