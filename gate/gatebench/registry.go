package gatebench

// RegistryBinary is Debian's docker-registry (`make setup` installs it);
// the benchmark starts it with internal/registryproc.
const RegistryBinary = "/usr/bin/docker-registry"
