package dockerfile

import "strings"

// IsRoot reports whether a USER value selects uid 0: "root" or "0", alone
// or with a group ("root:wheel", "0:0"). The empty string is root too: it
// stands for "no USER set", and a container without one runs as the image
// config's user, which is root unless the base image says otherwise (the
// Dockerfile text cannot tell; see the Dockerfile reference's USER
// section, https://docs.docker.com/reference/dockerfile/#user). BuildKit's
// parser never yields an empty value for a written USER instruction.
// Names are not resolved: "admin" is not root even if its uid is 0.
func IsRoot(user string) bool {
	if user == "" {
		return true
	}
	name, _, _ := strings.Cut(user, ":")
	return name == "root" || name == "0"
}
