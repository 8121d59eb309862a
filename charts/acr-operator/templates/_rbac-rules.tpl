{{/*
Every permission the operator has, in one place. clusterScoped rules always
go to the ClusterRole; namespaced rules go to the ClusterRole when the whole
cluster is watched, and to one Role per namespace in watchNamespaces. The
ClusterRole and its binding are rendered only when they get a rule. The e2e
suite fails when the operator uses a verb that is missing here, and when a
verb here is never used (the API server's audit log shows what it used).
*/}}
{{- define "acr-operator.rbacRules" -}}
{{- $plurals := list
  "registries" "replications" "webhooks" "tokens" "scopemaps" "cacherules"
  "credentialsets" "connectedregistries" "exportpipelines" "importpipelines"
  "pipelineruns" "privateendpointconnections" "archives" "archiveversions"
  "imageimports" }}
# Nothing cluster-scoped: kopf runs with scanning off, so it neither lists
# namespaces nor watches CRDs (it finds its kinds through API discovery).
clusterScoped: []
namespaced:
  # handlers.py: kopf lists and watches every kind and patches its finalizer
  # and its bookkeeping annotations onto the objects. It never reads one object.
  - apiGroups: ["acr-operator.dev"]
    resources:
    {{- range $plurals }}
      - {{ . }}
    {{- end }}
    verbs: ["list", "watch", "patch"]
  # reconciler: status (conditions, operation, ARM read-only fields) is
  # written through the status subresource with a merge patch.
  - apiGroups: ["acr-operator.dev"]
    resources:
    {{- range $plurals }}
      - {{ . }}/status
    {{- end }}
    verbs: ["patch"]
  # reconciler: reads the Secrets named by secretKeyRefs (get), writes the
  # credential Secrets it owns (create, patch; garbage collection deletes them
  # through their ownerReferences), and watches Secrets so that a changed one
  # wakes the objects naming it (list, watch).
  - apiGroups: [""]
    resources: ["secrets"]
    verbs: ["get", "list", "watch", "create", "patch"]
  # kopf posts Events with POST, one for each outcome the engine reports.
  - apiGroups: [""]
    resources: ["events"]
    verbs: ["create"]
{{- end }}
