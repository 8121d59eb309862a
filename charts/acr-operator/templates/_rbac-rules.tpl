{{/*
Every permission the operator has, in one place. clusterScoped rules always
go to the ClusterRole; namespaced rules go to the ClusterRole when the whole
cluster is watched, and to one Role per namespace in watchNamespaces.
*/}}
{{- define "acr-operator.rbacRules" -}}
{{- $plurals := list
  "registries" "replications" "webhooks" "tokens" "scopemaps" "cacherules"
  "credentialsets" "connectedregistries" "exportpipelines" "importpipelines"
  "pipelineruns" "privateendpointconnections" "archives" "archiveversions"
  "imageimports" }}
clusterScoped:
  # kopf lists CRDs to find the served versions of its kinds, and watches
  # them to pick up kinds installed after it started.
  - apiGroups: ["apiextensions.k8s.io"]
    resources: ["customresourcedefinitions"]
    verbs: ["get", "list", "watch"]
  # kopf lists and watches namespaces to follow which watched namespaces exist.
  - apiGroups: [""]
    resources: ["namespaces"]
    verbs: ["get", "list", "watch"]
namespaced:
  # handlers.py: kopf watches every kind and patches its finalizer and its
  # bookkeeping annotations onto the objects.
  - apiGroups: ["acr-operator.dev"]
    resources:
    {{- range $plurals }}
      - {{ . }}
    {{- end }}
    verbs: ["get", "list", "watch", "patch"]
  # reconciler: status (conditions, operation, ARM read-only fields) is
  # written through the status subresource.
  - apiGroups: ["acr-operator.dev"]
    resources:
    {{- range $plurals }}
      - {{ . }}/status
    {{- end }}
    verbs: ["get", "patch"]
  # reconciler: reads the Secrets named by secretKeyRefs (get), writes the
  # credential Secrets it owns (create, patch; garbage collection deletes them
  # through their ownerReferences), and watches Secrets so that a changed one
  # wakes the objects naming it (list, watch).
  - apiGroups: [""]
    resources: ["secrets"]
    verbs: ["get", "list", "watch", "create", "patch"]
  # kopf posts an event for each handler outcome.
  - apiGroups: [""]
    resources: ["events"]
    verbs: ["create", "patch"]
{{- end }}
