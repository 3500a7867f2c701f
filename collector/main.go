// Program swarmscope-otelcol is a minimal OpenTelemetry Collector distribution: the OTLP
// receiver, memory_limiter and batch processors, the file, debug, otlp and otlphttp exporters
// and the health_check extension, nothing else. It follows the layout the Collector builder
// (go.opentelemetry.io/collector/cmd/builder) generates, written by hand so that a clean
// checkout needs nothing but `go build`.
package main

import (
	"os"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/otelcol"
)

// version is the Collector release every module in go.mod is pinned to.
const version = "0.160.0"

func main() {
	info := component.BuildInfo{
		Command:     "swarmscope-otelcol",
		Description: "swarmscope OpenTelemetry Collector distribution",
		Version:     version,
	}

	set := otelcol.CollectorSettings{
		BuildInfo: info,
		Factories: components,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{
				// env: for ${env:VAR:-default} substitution, file: for --config paths,
				// yaml: for inline --set style overrides. No http(s) provider: the
				// configuration never comes from the network.
				ProviderFactories: []confmap.ProviderFactory{
					envprovider.NewFactory(),
					fileprovider.NewFactory(),
					yamlprovider.NewFactory(),
				},
			},
		},
		// Reported by `swarmscope-otelcol components`.
		ProviderModules: map[string]string{
			envprovider.NewFactory().Create(confmap.ProviderSettings{}).Scheme():  "go.opentelemetry.io/collector/confmap/provider/envprovider v1.66.0",
			fileprovider.NewFactory().Create(confmap.ProviderSettings{}).Scheme(): "go.opentelemetry.io/collector/confmap/provider/fileprovider v1.66.0",
			yamlprovider.NewFactory().Create(confmap.ProviderSettings{}).Scheme(): "go.opentelemetry.io/collector/confmap/provider/yamlprovider v1.66.0",
		},
	}

	if err := otelcol.NewCommand(set).Execute(); err != nil {
		// cobra has already printed the error.
		os.Exit(1)
	}
}
