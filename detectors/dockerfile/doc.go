// Package dockerfile is the pre-build detector (the paper's DAVS comparison
// system: Dockerfile analysis before build). It reads a Dockerfile and its
// build context, models the image the Dockerfile would build as far as it
// is known without running anything (RUN steps as history, ADD/COPY
// sources from the context as files, the final stage's config), and judges
// that model with the hierarchical detector's rule table, weights and
// threshold; every finding carries the Dockerfile line it belongs to.
package dockerfile
