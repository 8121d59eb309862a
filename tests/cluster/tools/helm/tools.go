//go:build tools

// Package tools records the helm command that the harness builds.
package tools

import _ "helm.sh/helm/v4/cmd/helm"
