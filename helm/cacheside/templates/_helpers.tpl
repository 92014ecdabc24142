{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "cacheside.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name: <release>-<chart> unless the release name already contains the chart name. */}}
{{- define "cacheside.fullname" -}}
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

{{- define "cacheside.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cacheside.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cacheside.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "cacheside.labels" -}}
helm.sh/chart: {{ include "cacheside.chart" . }}
{{ include "cacheside.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "cacheside.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "cacheside.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "cacheside.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "cacheside.headlessName" -}}
{{- printf "%s-headless" (include "cacheside.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cacheside.replicaName" -}}
{{- printf "%s-replica" (include "cacheside.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The primary's Service, as the replicas address it. */}}
{{- define "cacheside.primaryHost" -}}
{{- printf "%s.%s.svc.%s" (include "cacheside.fullname" .) .Release.Namespace .Values.clusterDomain -}}
{{- end -}}

{{/* The Secret the chart creates for auth.password and sidecar.purge.token. */}}
{{- define "cacheside.secretName" -}}
{{- printf "%s-secret" (include "cacheside.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cacheside.authSecretName" -}}
{{- default (include "cacheside.secretName" .) .Values.auth.existingSecret -}}
{{- end -}}

{{- define "cacheside.authSecretKey" -}}
{{- if .Values.auth.existingSecret -}}
{{- .Values.auth.existingSecretPasswordKey -}}
{{- else -}}
password
{{- end -}}
{{- end -}}

{{- define "cacheside.purgeEnabled" -}}
{{- if or .Values.sidecar.purge.token .Values.sidecar.purge.existingSecret -}}true{{- end -}}
{{- end -}}

{{- define "cacheside.purgeSecretName" -}}
{{- default (include "cacheside.secretName" .) .Values.sidecar.purge.existingSecret -}}
{{- end -}}

{{- define "cacheside.purgeSecretKey" -}}
{{- if .Values.sidecar.purge.existingSecret -}}
{{- .Values.sidecar.purge.existingSecretKey -}}
{{- else -}}
purge-token
{{- end -}}
{{- end -}}

{{/*
One redis.conf value: booleans as yes/no, numbers without exponent
(Helm reads YAML numbers as float64: 1000000 would print as 1e+06),
"" as "" (an explicitly empty argument), anything else as given.
*/}}
{{- define "cacheside.confValue" -}}
{{- if kindIs "bool" . -}}
{{- ternary "yes" "no" . -}}
{{- else if or (kindIs "float64" .) (kindIs "int64" .) (kindIs "int" .) -}}
{{- int64 . -}}
{{- else if eq (toString .) "" -}}
""
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{/* Environment shared by the primary and replica containers. */}}
{{- define "cacheside.env" -}}
{{- if .Values.auth.enabled }}
- name: CACHESIDE_REQUIREPASS
  valueFrom:
    secretKeyRef:
      name: {{ include "cacheside.authSecretName" . }}
      key: {{ include "cacheside.authSecretKey" . }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Volumes shared by both StatefulSets: the config, /tmp and extras. */}}
{{- define "cacheside.volumes" -}}
- name: config
  configMap:
    name: {{ include "cacheside.fullname" . }}
- name: tmp
  emptyDir: {}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "cacheside.volumeMounts" -}}
- name: config
  mountPath: /etc/cacheside
  readOnly: true
- name: data
  mountPath: /data
- name: tmp
  mountPath: /tmp
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by both StatefulSets. */}}
{{- define "cacheside.podSpecCommon" -}}
serviceAccountName: {{ include "cacheside.serviceAccountName" . }}
automountServiceAccountToken: {{ .Values.serviceAccount.automountServiceAccountToken }}
terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* A PVC template (persistence.enabled) or an emptyDir volume for /data: $ctx = dict "root" $ "size" <size> "enabled" <bool> */}}
{{- define "cacheside.dataClaim" -}}
- metadata:
    name: data
    labels:
      {{- include "cacheside.selectorLabels" .root | nindent 6 }}
      {{- with .root.Values.persistence.labels }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    {{- with .root.Values.persistence.annotations }}
    annotations:
      {{- toYaml . | nindent 6 }}
    {{- end }}
  spec:
    accessModes:
      {{- toYaml .root.Values.persistence.accessModes | nindent 6 }}
    {{- if .root.Values.persistence.storageClass }}
    {{- if eq "-" .root.Values.persistence.storageClass }}
    storageClassName: ""
    {{- else }}
    storageClassName: {{ .root.Values.persistence.storageClass | quote }}
    {{- end }}
    {{- end }}
    resources:
      requests:
        storage: {{ .size | quote }}
{{- end -}}
