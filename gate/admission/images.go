package admission

import (
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// imageUse is one place an object names an image.
type imageUse struct {
	ref   string // as written in the object
	where string // `container "app"`, for people
	field string // "spec.containers[0].image", for tools
}

// templated is the part of a workload object that holds its pod template:
// spec.template for Deployment, StatefulSet, DaemonSet, ReplicaSet, Job and
// ReplicationController, spec.jobTemplate.spec.template for CronJob. Reading
// only these fields keeps the apps and batch API packages out of the binary.
type templated struct {
	Spec struct {
		Template    *corev1.PodTemplateSpec `json:"template"`
		JobTemplate *struct {
			Spec struct {
				Template *corev1.PodTemplateSpec `json:"template"`
			} `json:"spec"`
		} `json:"jobTemplate"`
	} `json:"spec"`
}

// workloads maps group/kind to where its pod spec lives.
var workloads = map[string]string{
	"apps/Deployment":        "spec.template.spec",
	"apps/StatefulSet":       "spec.template.spec",
	"apps/DaemonSet":         "spec.template.spec",
	"apps/ReplicaSet":        "spec.template.spec",
	"batch/Job":              "spec.template.spec",
	"batch/CronJob":          "spec.jobTemplate.spec.template.spec",
	"/ReplicationController": "spec.template.spec",
	"/Pod":                   "spec",
}

// imagesOf lists the images an admitted object makes the kubelet pull.
func imagesOf(kind metav1.GroupVersionKind, raw []byte) ([]imageUse, error) {
	gk := kind.Group + "/" + kind.Kind
	prefix, ok := workloads[gk]
	if !ok {
		gv := kind.Version
		if kind.Group != "" {
			gv = kind.Group + "/" + kind.Version
		}
		return nil, fmt.Errorf("kind %s (%s) is not one strata checks (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, ReplicationController): remove it from the webhook's rules", kind.Kind, gv)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("%s request has no object", kind.Kind)
	}
	var spec *corev1.PodSpec
	if kind.Kind == "Pod" {
		var pod corev1.Pod
		if err := json.Unmarshal(raw, &pod); err != nil {
			return nil, fmt.Errorf("decode Pod: %w", err)
		}
		spec = &pod.Spec
	} else {
		var t templated
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, fmt.Errorf("decode %s: %w", kind.Kind, err)
		}
		tmpl := t.Spec.Template
		if kind.Kind == "CronJob" && t.Spec.JobTemplate != nil {
			tmpl = t.Spec.JobTemplate.Spec.Template
		}
		if tmpl == nil {
			return nil, errors.New(kind.Kind + " has no pod template at " + prefix)
		}
		spec = &tmpl.Spec
	}
	return podImages(prefix, spec), nil
}

// podImages lists every image of a pod spec, in spec order.
func podImages(prefix string, spec *corev1.PodSpec) []imageUse {
	var out []imageUse
	add := func(ref, what, name, field string) {
		if ref != "" {
			out = append(out, imageUse{ref: ref, where: fmt.Sprintf("%s %q", what, name), field: prefix + "." + field})
		}
	}
	for i, c := range spec.InitContainers {
		add(c.Image, "initContainer", c.Name, fmt.Sprintf("initContainers[%d].image", i))
	}
	for i, c := range spec.Containers {
		add(c.Image, "container", c.Name, fmt.Sprintf("containers[%d].image", i))
	}
	for i, c := range spec.EphemeralContainers {
		add(c.Image, "ephemeralContainer", c.Name, fmt.Sprintf("ephemeralContainers[%d].image", i))
	}
	// Image volumes mount an image's files into containers, which can run
	// them: a miner hidden there is as dangerous as one in a container.
	for i, v := range spec.Volumes {
		if v.Image != nil {
			add(v.Image.Reference, "image volume", v.Name, fmt.Sprintf("volumes[%d].image.reference", i))
		}
	}
	return out
}
