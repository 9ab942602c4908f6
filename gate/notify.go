package gate

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

// EventsMediaType is the media type of the Distribution registry's
// notification envelope.
const EventsMediaType = "application/vnd.docker.distribution.events.v1+json"

// maxEnvelopeBytes bounds a notification body; the registry batches a few
// events per request, each well under a kilobyte.
const maxEnvelopeBytes = 4 << 20

// Envelope is the Distribution registry's notification body (see the
// registry's "Notifications" documentation); only the fields the gate
// reads are declared.
type Envelope struct {
	Events []Event `json:"events"`
}

// Event is one registry event.
type Event struct {
	ID     string `json:"id"`
	Action string `json:"action"`
	Target struct {
		MediaType  string `json:"mediaType"`
		Digest     string `json:"digest"`
		Repository string `json:"repository"`
		URL        string `json:"url"`
		Tag        string `json:"tag"`
	} `json:"target"`
	Request struct {
		Host string `json:"host"`
	} `json:"request"`
}

// Outcomes of one event, the label of the notifications metric.
const (
	eventEnqueued  = "enqueued"
	eventDuplicate = "duplicate"
	eventIgnored   = "ignored"
	eventFailed    = "failed"
)

// readEnvelope decodes a notification body.
func readEnvelope(r io.Reader) (Envelope, error) {
	var env Envelope
	dec := json.NewDecoder(io.LimitReader(r, maxEnvelopeBytes))
	if err := dec.Decode(&env); err != nil {
		return Envelope{}, fmt.Errorf("notification body is not a registry event envelope: %w", err)
	}
	return env, nil
}

// jobOf turns a push event of an image manifest or an index into a job;
// ok is false for every other event (pulls, deletes, layer blobs,
// schema-1 manifests). An index is one job: the worker scans each of its
// platform images and stores a record per platform and one for the index.
// The registry also notifies each platform manifest pushed before the
// index; those jobs find the verdicts already stored, or store them first.
// The job names registry, the one the gate fronts, never the host in the
// event (target.url and request.host come from the pusher's Host header).
func jobOf(e Event, registry string) (j Job, ok bool) {
	mt := types.MediaType(e.Target.MediaType)
	if registry == "" || e.Action != "push" || e.Target.Digest == "" || e.Target.Repository == "" || !(mt.IsImage() || mt.IsIndex()) {
		return Job{}, false
	}
	j, err := jobFor(registry + "/" + e.Target.Repository + "@" + e.Target.Digest)
	if err != nil {
		return Job{}, false
	}
	j.Tag, j.MediaType, j.Source, j.EventID = e.Target.Tag, e.Target.MediaType, "notification", e.ID
	return j, true
}
