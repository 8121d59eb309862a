//go:build tools

// Package tools records the etcd command that the harness builds.
package tools

import _ "go.etcd.io/etcd/server/v3"
