//go:build tools

// Package tools pins the Pulumi CLI that the Automation API drives; the set-up builds it from here.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
