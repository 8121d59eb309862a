"""Spec fields that the operator acts on itself and never sends to ARM.

ARM returns credentials only in the responses of actions (GenerateCredentials,
ListCredentials), and secret values must never be in spec or status. So each
kind with credentials gets one extra top-level spec field, which names the
Secret to write them to and carries the rotation counters. kinds.json lists
it under `operatorFields`, and the reconciler drops it from every ARM body.

Triggers of ARM actions (a webhook's ping, a connected registry's
deactivation) are operator fields for the same reason: the operator reads
them and calls the action, and they are never part of an ARM body.
"""

from __future__ import annotations

import copy

# A Secret name, short enough that "<name>-dockerconfig" is still a valid name.
_DOCKERCONFIG_SUFFIX = "-dockerconfig"
_SECRET_NAME = {
    "type": "string",
    "minLength": 1,
    "maxLength": 253 - len(_DOCKERCONFIG_SUFFIX),
    "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
}
_COUNTER = {"type": "integer", "format": "int64", "minimum": 0}


def _secret_name(contents: str) -> dict:
    return {
        "description": f"Secret in this namespace that the operator writes {contents} to, with "
                       f"keys username and the password names. It also writes "
                       f"<secretName>{_DOCKERCONFIG_SUFFIX}, of type "
                       "kubernetes.io/dockerconfigjson, for imagePullSecrets. Both are owned "
                       "by this object and deleted with it.",
        **_SECRET_NAME,
    }


def _counter(name: str) -> dict:
    return {
        "description": f"Raise this number to generate a new {name}; the other password "
                       "stays valid. Lowering it does nothing.",
        **_COUNTER,
    }


def _token_password(name: str) -> dict:
    return {
        "description": f"Settings of {name}.",
        "type": "object",
        "properties": {
            # No schema default: the generated CRDs carry none, so absent means true in code.
            "enabled": {
                "description": f"Whether {name} exists (default true). Setting false deletes "
                               "it from the token and from the Secret.",
                "type": "boolean",
            },
            "expiry": {
                "description": f"RFC 3339 time at which {name} stops working. Applies when "
                               f"{name} is next generated; leave out for no expiry.",
                "type": "string",
                "format": "date-time",
            },
        },
    }


def _enabled(name: str) -> str:
    return f"(!has(self.{name}) || !has(self.{name}.enabled) || self.{name}.enabled)"


TOKEN_PASSWORDS = {
    "description": "Token passwords that the operator generates (GenerateCredentials) and "
                   "writes to a Secret. A restart never generates a password again; only a "
                   "raised rotation counter, or a Secret that lost its values, does.",
    "type": "object",
    "required": ["secretName"],
    "properties": {
        "secretName": _secret_name("the token's name and passwords"),
        "password1": _token_password("password1"),
        "password2": _token_password("password2"),
        "rotation": {
            "description": "Rotation counters, one per password.",
            "type": "object",
            "properties": {"password1": _counter("password1"), "password2": _counter("password2")},
        },
    },
    "x-kubernetes-validations": [{
        "rule": f"{_enabled('password1')} || {_enabled('password2')}",
        "message": "spec.passwords needs password1 or password2 enabled; remove spec.passwords "
                   "to stop managing the token's passwords",
    }],
}

ADMIN_CREDENTIALS = {
    "description": "Export of the registry's admin user (ListCredentials) to a Secret. Needs "
                   "spec.properties.adminUserEnabled: true.",
    "type": "object",
    "required": ["secretName"],
    "properties": {
        "secretName": _secret_name("the admin user's name and passwords"),
        "rotation": {
            "description": "Rotation counters, one per admin password (RegenerateCredential).",
            "type": "object",
            "properties": {"password": _counter("password"), "password2": _counter("password2")},
        },
    },
}

# Triggers of ARM actions that are not resources: a new value runs the action once.
WEBHOOK_PING = {
    "description": "Any value; each new value sends one ping (Webhooks_Ping) to the webhook's "
                   "service URI. status.lastPing records the value last acted on.",
    "x-kubernetes-int-or-string": True,
}

CONNECTED_REGISTRY_DEACTIVATE = {
    "description": "While true, the operator deactivates the connected registry "
                   "(ConnectedRegistries_Deactivate) whenever Azure reports it active, so "
                   "that it can be deployed again.",
    "type": "boolean",
}

# Operator fields by kind: field name -> CRD schema.
FIELDS: dict[str, dict[str, dict]] = {
    "Token": {"passwords": TOKEN_PASSWORDS},
    "Registry": {"adminCredentials": ADMIN_CREDENTIALS},
    "Webhook": {"ping": WEBHOOK_PING},
    "ConnectedRegistry": {"deactivate": CONNECTED_REGISTRY_DEACTIVATE},
}

# Rules on ARM fields that the operator fields replace, by kind: dotted spec path -> rule.
_REPLACED = {
    "Token": {
        # ARM returns passwords created by a token write only in that write's response,
        # which the reconciler does not keep. spec.passwords writes them to a Secret instead.
        "properties.credentials": {
            "rule": "!has(self.passwords)",
            "message": "spec.properties.credentials.passwords is not supported, because ARM "
                       "returns the generated values only once; use spec.passwords, which "
                       "writes them to a Secret",
        },
    },
}


def names(kind: str) -> list[str]:
    """Return the operator fields of `kind`, sorted."""
    return sorted(FIELDS.get(kind, {}))


def add(kind: str, spec: dict) -> None:
    """Add the operator fields of `kind` to its spec schema, and the rules that go with them."""
    for name, schema in FIELDS.get(kind, {}).items():
        spec["properties"][name] = copy.deepcopy(schema)
    for path, rule in _REPLACED.get(kind, {}).items():
        node = spec
        for part in path.split("."):
            node = node["properties"][part]
        node.setdefault("x-kubernetes-validations", []).append(dict(rule))
