"""Which events a rule's Sigma ``logsource`` selects.

| Sigma key  | event field                      | match                                   |
|------------|----------------------------------|-----------------------------------------|
| category   | ``category``                     | equal (``authentication``, ``authorization``, ...) |
| product    | ``origin.system``                | the system's first dotted part, or an alias below |
| service    | ``origin.system`` / ``origin.service`` | the system's remaining part, or the service |

Aliases for SigmaHQ's product names: ``kubernetes`` is our ``k8s``. So
``product: aws, service: cloudtrail`` selects ``origin.system = aws.cloudtrail``,
``product: linux, service: sshd`` selects ``linux.sshd``, and ``product: okta,
service: okta`` selects ``okta``. A key the rule leaves out selects everything.
"""

from __future__ import annotations

from detectors.events import AuditEvent
from detectors.rules.model import Logsource

__all__ = ["logsource_matches"]

_PRODUCT_ALIASES = {"kubernetes": "k8s"}


def logsource_matches(logsource: Logsource, event: AuditEvent) -> bool:
    if logsource.category is not None and event.category.value != logsource.category.lower():
        return False
    system = event.origin.system.lower()
    product, _, rest = system.partition(".")
    if logsource.product is not None:
        wanted = logsource.product.lower()
        if _PRODUCT_ALIASES.get(wanted, wanted) != product:
            return False
    if logsource.service is not None:
        service = logsource.service.lower()
        own_service = (event.origin.service or "").lower()
        # okta/okta: a one-part system is its own service.
        if service not in (rest or product, own_service):
            return False
    return True
