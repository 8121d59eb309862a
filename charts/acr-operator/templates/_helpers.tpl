{{/* Chart name, cut to the 63 characters a label value allows. */}}
{{- define "acr-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name, with the chart name added unless it already contains it. */}}
{{- define "acr-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "acr-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "acr-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "acr-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "acr-operator.labels" -}}
helm.sh/chart: {{ include "acr-operator.chart" . }}
{{ include "acr-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "acr-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "acr-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "acr-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Name of the Secret the chart creates from credential.staticToken.value. */}}
{{- define "acr-operator.staticTokenSecretName" -}}
{{- printf "%s-static-token" (include "acr-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fails the render early, with a message that says which value to set. */}}
{{- define "acr-operator.validate" -}}
{{- $c := .Values.credential }}
{{- if not (has $c.mode (list "workloadIdentity" "clientSecret" "emulator")) }}
{{- fail (printf "credential.mode must be workloadIdentity, clientSecret or emulator, not %q" $c.mode) }}
{{- end }}
{{- if eq $c.mode "clientSecret" }}
{{- if or (not $c.clientId) (not $c.tenantId) }}
{{- fail "credential.mode=clientSecret needs credential.clientId and credential.tenantId" }}
{{- end }}
{{- if not $c.clientSecret.existingSecret }}
{{- fail "credential.mode=clientSecret needs credential.clientSecret.existingSecret (the name of a Secret holding the client secret)" }}
{{- end }}
{{- end }}
{{- if and (eq $c.mode "emulator") (not $c.staticToken.existingSecret) (not $c.staticToken.value) }}
{{- fail "credential.mode=emulator needs credential.staticToken.existingSecret or credential.staticToken.value" }}
{{- end }}
{{- if gt (int .Values.replicaCount) 1 }}
{{- fail "replicaCount must be 0 or 1: the operator runs kopf in standalone mode, without peering" }}
{{- end }}
{{- end }}
