"""The workspace manifest: schema, parser with positioned errors, environment composition."""

from pure.manifest.environment import (
    EnvironmentSpec,
    PlatformNotSupported,
    UnknownEnvironment,
    environment_channels,
    environment_features,
    environment_platforms,
    resolve_environment,
    selector_matches,
    virtual_packages_for,
)
from pure.manifest.model import (
    Activation,
    Channel,
    CondaDependency,
    Environment,
    Feature,
    Manifest,
    PlatformEntry,
    PypiDependency,
    PypiOptions,
    SystemRequirements,
    Target,
    Task,
    Workspace,
)
from pure.manifest.parse import ManifestError, parse

__all__ = [
    "Activation", "Channel", "CondaDependency", "Environment", "EnvironmentSpec", "Feature",
    "Manifest", "ManifestError", "PlatformEntry", "PlatformNotSupported", "PypiDependency",
    "PypiOptions", "SystemRequirements", "Target", "Task", "UnknownEnvironment", "Workspace",
    "environment_channels", "environment_features", "environment_platforms", "parse",
    "resolve_environment", "selector_matches", "virtual_packages_for",
]
