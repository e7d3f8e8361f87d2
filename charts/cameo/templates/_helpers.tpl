{{/* The release's full name, at most 63 characters. */}}
{{- define "cameo.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "cameo.selectorLabels" -}}
app.kubernetes.io/name: cameo-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "cameo.labels" -}}
{{ include "cameo.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* An image reference from {repository, tag, digest}: the digest wins, the tag defaults to appVersion. */}}
{{- define "cameo.image" -}}
{{- $image := index . 0 -}}
{{- $root := index . 1 -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository (default $root.Chart.AppVersion $image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The GPU shards' (CUDA) detector image: each of repository and tag defaults to the CPU detector's, the tag with -cuda after it. */}}
{{- define "cameo.detectorGpuImage" -}}
{{- $gpu := .Values.image.detectorGpu -}}
{{- $cpu := .Values.image.detector -}}
{{- $repository := default $cpu.repository $gpu.repository -}}
{{- if $gpu.digest -}}
{{- printf "%s@%s" $repository $gpu.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (default (printf "%s-cuda" (default .Chart.AppVersion $cpu.tag)) $gpu.tag) -}}
{{- end -}}
{{- end -}}

{{- define "cameo.operatorServiceAccount" -}}
{{- default (include "cameo.fullname" .) .Values.operator.serviceAccount.name -}}
{{- end -}}

{{/* The namespaces whose VideoJobs the operator runs. */}}
{{- define "cameo.namespaces" -}}
{{- if .Values.watchNamespaces -}}
{{- join "," .Values.watchNamespaces -}}
{{- else -}}
{{- .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/* A map as `key=value,key=value` (sorted), for the operator's list flags. */}}
{{- define "cameo.keyValues" -}}
{{- $pairs := list -}}
{{- range $key, $value := . -}}
{{- $pairs = append $pairs (printf "%s=%s" $key $value) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}

{{- define "cameo.ingestName" -}}
{{- printf "%s-ingest" (include "cameo.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cameo.ingestSelectorLabels" -}}
app.kubernetes.io/name: cameo-ingest
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The operator's common labels, with the ingest's name. */}}
{{- define "cameo.ingestLabels" -}}
{{ include "cameo.ingestSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "cameo.ingestServiceAccount" -}}
{{- default (include "cameo.ingestName" .) .Values.ingest.serviceAccount.name -}}
{{- end -}}

{{/* Where the ingest creates VideoJobs: ingest.namespace, else the first watched namespace.
     It must be watched, or nothing would run them. */}}
{{- define "cameo.ingestNamespace" -}}
{{- $watched := splitList "," (include "cameo.namespaces" .) -}}
{{- $namespace := default (first $watched) .Values.ingest.namespace -}}
{{- if not (has $namespace $watched) -}}
{{- fail (printf "ingest.namespace %s is not one of the watched namespaces (%s)" $namespace (join ", " $watched)) -}}
{{- end -}}
{{- $namespace -}}
{{- end -}}

{{- define "cameo.galleryCheckerName" -}}
{{- printf "%s-gallery-checker" (include "cameo.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cameo.galleryCheckerSelectorLabels" -}}
app.kubernetes.io/name: cameo-gallery-checker
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "cameo.galleryCheckerServiceAccount" -}}
{{- default (include "cameo.galleryCheckerName" .) .Values.galleryChecker.serviceAccount.name -}}
{{- end -}}

{{- define "cameo.curationWorkerName" -}}
{{- printf "%s-curation-worker" (include "cameo.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cameo.curationWorkerSelectorLabels" -}}
app.kubernetes.io/name: cameo-curation-worker
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "cameo.curationWorkerServiceAccount" -}}
{{- default (include "cameo.curationWorkerName" .) .Values.curationWorker.serviceAccount.name -}}
{{- end -}}
