// Package registryproc runs a private Debian docker-registry on 127.0.0.1:
// a generated config.yml (no auth, no TLS, optional notifications and
// deletes), a free port, readiness by GET /v2/, and a stop that cannot
// hang. The test environment (internal/testenv) and the gate's load
// benchmark (gate/gatebench) both start their registries with it.
package registryproc
