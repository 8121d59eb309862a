"""Facts of the ARM common types that the document refers to by relative path.

The document points at `common-types/resource-management/v6/*.json`, which
are not part of the copied spec folder. The few definitions and parameters
it uses are stable across ARM and are written out here as facts only
(names, types, enums, patterns, limits, read-only flags), already in the
cleaned form that `schemas.clean` produces.
"""

from __future__ import annotations

# Keyed by definition name; the v5 `Resource` that PrivateLinkResource names is
# the same model as the v6 one, so one entry serves both.
DEFINITIONS: dict[str, dict] = {
    "Resource": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "arm-id", "readOnly": True},
            "name": {"type": "string", "readOnly": True},
            "type": {"type": "string", "readOnly": True},
            "systemData": {"$ref": "#/definitions/SystemData", "readOnly": True},
        },
    },
    "ProxyResource": {
        "type": "object",
        "allOf": [{"$ref": "#/definitions/Resource"}],
    },
    "TrackedResource": {
        "type": "object",
        "properties": {
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "location": {"type": "string"},
        },
        "required": ["location"],
        "allOf": [{"$ref": "#/definitions/Resource"}],
    },
    "SystemData": {
        "type": "object",
        "properties": {
            "createdBy": {"type": "string"},
            "createdByType": {"$ref": "#/definitions/createdByType"},
            "createdAt": {"type": "string", "format": "date-time"},
            "lastModifiedBy": {"type": "string"},
            "lastModifiedByType": {"$ref": "#/definitions/createdByType"},
            "lastModifiedAt": {"type": "string", "format": "date-time"},
        },
    },
    "createdByType": {
        "type": "string",
        "enum": ["User", "Application", "ManagedIdentity", "Key"],
    },
    "ErrorResponse": {
        "type": "object",
        "properties": {"error": {"$ref": "#/definitions/ErrorDetail"}},
    },
    "ErrorDetail": {
        "type": "object",
        "properties": {
            "code": {"type": "string", "readOnly": True},
            "message": {"type": "string", "readOnly": True},
            "target": {"type": "string", "readOnly": True},
            "details": {
                "type": "array",
                "items": {"$ref": "#/definitions/ErrorDetail"},
                "readOnly": True,
            },
            "additionalInfo": {
                "type": "array",
                "items": {"$ref": "#/definitions/ErrorAdditionalInfo"},
                "readOnly": True,
            },
        },
    },
    "ErrorAdditionalInfo": {
        "type": "object",
        "properties": {
            "type": {"type": "string", "readOnly": True},
            "info": {"type": "object", "readOnly": True},
        },
    },
    "PrivateLinkResource": {
        "type": "object",
        "properties": {"properties": {"$ref": "#/definitions/PrivateLinkResourceProperties"}},
        "allOf": [{"$ref": "#/definitions/Resource"}],
    },
    "PrivateLinkResourceProperties": {
        "type": "object",
        "properties": {
            "groupId": {"type": "string", "readOnly": True},
            "requiredMembers": {"type": "array", "items": {"type": "string"}, "readOnly": True},
            "requiredZoneNames": {"type": "array", "items": {"type": "string"}},
        },
    },
}

# Swagger parameter objects, without their descriptions.
PARAMETERS: dict[str, dict] = {
    "ApiVersionParameter": {
        "name": "api-version",
        "in": "query",
        "required": True,
        "type": "string",
        "minLength": 1,
    },
    "SubscriptionIdParameter": {
        "name": "subscriptionId",
        "in": "path",
        "required": True,
        "type": "string",
        "format": "uuid",
    },
    "ResourceGroupNameParameter": {
        "name": "resourceGroupName",
        "in": "path",
        "required": True,
        "type": "string",
        "minLength": 1,
        "maxLength": 90,
        "pattern": "^[-\\w\\._\\(\\)]+$",
    },
}
