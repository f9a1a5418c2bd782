"""Endpoint and app status, visible from scripts and changed by the app's system jobs.

Endpoints go DEPLOYING → DEPLOYED and UNDEPLOYING → UNDEPLOYED; the app is STARTED or
STOPPED (STOPPED holds back every app job while system jobs still run).
"""

from __future__ import annotations

from enum import StrEnum

from sysjobs.app.definition import AppDefinition
from sysjobs.errors import BadRequest
from sysjobs.store.app_misc import AppMiscStore


class EndpointStatus(StrEnum):
    DEPLOYING = "DEPLOYING"
    DEPLOYED = "DEPLOYED"
    UNDEPLOYING = "UNDEPLOYING"
    UNDEPLOYED = "UNDEPLOYED"


class AppStatus(StrEnum):
    STARTED = "STARTED"
    STOPPED = "STOPPED"


class StatusService:
    def __init__(self, definition: AppDefinition, store: AppMiscStore) -> None:
        self.definition = definition
        self.store = store

    def check_endpoint(self, name: str) -> None:
        if name not in self.definition.manifest.endpoints:
            known = ", ".join(sorted(self.definition.manifest.endpoints)) or "none"
            raise BadRequest(
                f"Invalid value '{name}' for parameter 'endpointName'. Allowed values: {known}"
            )

    def endpoint(self, name: str) -> EndpointStatus:
        """An endpoint's status; endpoints start out UNDEPLOYED."""
        self.check_endpoint(name)
        return EndpointStatus(self.store.endpoint_status(name) or EndpointStatus.UNDEPLOYED)

    def set_endpoint(self, name: str, status: EndpointStatus) -> None:
        self.check_endpoint(name)
        self.store.set_endpoint_status(name, status.value)

    def app(self) -> AppStatus:
        """The app's status; an app starts out STARTED."""
        return AppStatus(self.store.app_status(self.definition.name) or AppStatus.STARTED)

    def set_app(self, status: AppStatus) -> None:
        self.store.set_app_status(self.definition.name, status.value)
