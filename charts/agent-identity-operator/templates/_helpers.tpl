{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "aio.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-qualified name; the release name alone when it already contains the chart name. */}}
{{- define "aio.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "aio.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aio.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "aio.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "aio.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: agent-identity-operator
{{- end -}}

{{- define "aio.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "aio.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "aio.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
Whether to install the MutatingAdmissionPolicy: "auto" asks the cluster (helm install/upgrade
see its API versions; `helm template` sees only what --api-versions adds).
*/}}
{{- define "aio.mutatingAdmission" -}}
{{- $mode := .Values.admissionPolicies.mutating -}}
{{- if and .Values.admissionPolicies.enabled (or (eq (toString $mode) "true") (and (eq (toString $mode) "auto") (.Capabilities.APIVersions.Has "admissionregistration.k8s.io/v1beta1/MutatingAdmissionPolicy"))) -}}
true
{{- end -}}
{{- end -}}

{{/*
Renders a file of files/ (YAML documents copied verbatim from config/) with the chart's labels
merged into each document's labels.
*/}}
{{- define "aio.verbatim" -}}
{{- $root := index . 0 -}}
{{- $labels := include "aio.labels" $root | fromYaml -}}
{{- range $part := splitList "\n---\n" ($root.Files.Get (index . 1)) }}
{{- $obj := fromYaml $part }}
{{- if $obj }}
{{- $_ := set $obj.metadata "labels" (merge (deepCopy $labels) (default (dict) $obj.metadata.labels)) }}
---
{{ toYaml $obj }}
{{- end }}
{{- end }}
{{- end -}}
