// Package deploy holds the facade's deployment: the image (../Containerfile,
// build-image.sh) and the Kubernetes manifests (kubernetes/). Its tests check both; it
// is a module of its own, so the Kubernetes API types stay out of the facade's go.mod.
package deploy

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// manifests decodes every document of kubernetes/*.yaml strictly into its API type:
// an unknown field, or a kind this test does not know, fails.
func manifests(t *testing.T) []any {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests (%v)", err)
	}
	var objs []any
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(raw), -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
				t.Fatalf("%s #%d: %v", f, i, err)
			}
			var obj any
			switch tm.APIVersion + " " + tm.Kind {
			case "apps/v1 Deployment":
				obj = &appsv1.Deployment{}
			case "v1 Service":
				obj = &corev1.Service{}
			case "v1 ConfigMap":
				obj = &corev1.ConfigMap{}
			case "v1 Secret":
				obj = &corev1.Secret{}
			case "policy/v1 PodDisruptionBudget":
				obj = &policyv1.PodDisruptionBudget{}
			case "autoscaling/v2 HorizontalPodAutoscaler":
				obj = &autoscalingv2.HorizontalPodAutoscaler{}
			default:
				t.Fatalf("%s #%d: %s %s is not a kind this test checks", f, i, tm.APIVersion, tm.Kind)
			}
			if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
				t.Fatalf("%s #%d (%s): %v", f, i, tm.Kind, err)
			}
			objs = append(objs, obj)
		}
	}
	return objs
}

// find returns the object of type T named name.
func find[T any](t *testing.T, objs []any, name string) T {
	t.Helper()
	for _, o := range objs {
		if v, ok := o.(T); ok {
			if m, ok := any(v).(metav1.Object); ok && m.GetName() == name {
				return v
			}
		}
	}
	var zero T
	t.Fatalf("no %T named %s", zero, name)
	return zero
}

// configTable is the facade's configuration table (README): variable → default.
func configTable(t *testing.T) map[string]string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z_]+)` \\| `--[a-z-]+` \\| ([^|]+) \\|").FindAllStringSubmatch(string(readme), -1) {
		vars[m[1]] = strings.Trim(strings.TrimSpace(m[2]), "`")
	}
	if len(vars) < 10 {
		t.Fatalf("read only %d variables from README's configuration table", len(vars))
	}
	return vars
}

func TestManifestsDecodeStrictly(t *testing.T) {
	if n := len(manifests(t)); n != 8 {
		t.Fatalf("%d objects, want 8 (facade Deployment, Service, ConfigMap, Secret, PDB, HPA; Redis Deployment and Service)", n)
	}
}

func TestDeploymentMatchesTheFacade(t *testing.T) {
	objs := manifests(t)
	vars := configTable(t)
	d := find[*appsv1.Deployment](t, objs, "koodrive-facade")
	cm := find[*corev1.ConfigMap](t, objs, "koodrive-facade")
	pod := d.Spec.Template.Spec
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 || len(pod.Containers) != 1 {
		t.Fatal("want 3 replicas of one container")
	}
	c := pod.Containers[0]

	// Every variable the pod gets is one the facade reads.
	names := []string{}
	for k := range cm.Data {
		names = append(names, k)
	}
	for _, e := range c.Env {
		names = append(names, e.Name)
	}
	for _, n := range names {
		if _, ok := vars[n]; !ok {
			t.Errorf("environment variable %s is not in the facade's configuration table", n)
		}
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].ConfigMapRef == nil || c.EnvFrom[0].ConfigMapRef.Name != cm.Name {
		t.Errorf("settings do not come from the ConfigMap %s", cm.Name)
	}
	redisFromSecret := slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "REDIS_URL" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil
	})
	if _, inConfigMap := cm.Data["REDIS_URL"]; !redisFromSecret || inConfigMap {
		t.Error("REDIS_URL must come from a Secret, and only from it")
	}
	secret := find[*corev1.Secret](t, objs, "koodrive-facade-redis")
	if _, ok := secret.StringData["REDIS_URL"]; !ok {
		t.Error("the Secret has no REDIS_URL")
	}

	// Ports and probes are the facade's.
	if len(c.Ports) != 1 || fmt.Sprint(c.Ports[0].ContainerPort) != vars["PORT"] || c.Ports[0].Name != "http" {
		t.Errorf("container port %v, want the facade's PORT %s named http", c.Ports, vars["PORT"])
	}
	for probe, path := range map[*corev1.Probe]string{c.ReadinessProbe: "/readyz", c.LivenessProbe: "/healthz"} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != path || probe.HTTPGet.Port.String() != "http" {
			t.Errorf("probe %+v, want GET %s on port http", probe, path)
		}
	}
	server, err := os.ReadFile("../server.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, route := range []string{`"GET /readyz"`, `"GET /healthz"`} {
		if !bytes.Contains(server, []byte(route)) {
			t.Errorf("the facade serves no %s", route)
		}
	}
	svc := find[*corev1.Service](t, objs, "koodrive-facade")
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.String() != "http" || !mapsEqual(svc.Spec.Selector, d.Spec.Selector.MatchLabels) {
		t.Errorf("the Service does not reach the pods' http port")
	}

	// A rolling update drops no request: not ready for SHUTDOWN_DELAY, then SHUTDOWN_GRACE
	// to finish, both before the kubelet's SIGKILL.
	delay, err1 := time.ParseDuration(cm.Data["SHUTDOWN_DELAY"])
	grace, err2 := time.ParseDuration(cm.Data["SHUTDOWN_GRACE"])
	period := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	if err1 != nil || err2 != nil || delay <= 0 || delay+grace >= period {
		t.Errorf("SHUTDOWN_DELAY %q + SHUTDOWN_GRACE %q must be under terminationGracePeriodSeconds (%v)", cm.Data["SHUTDOWN_DELAY"], cm.Data["SHUTDOWN_GRACE"], period)
	}
	if ready := c.ReadinessProbe; time.Duration(ready.PeriodSeconds*ready.FailureThreshold)*time.Second >= delay {
		t.Errorf("readiness fails only after %d s, not within SHUTDOWN_DELAY %v", ready.PeriodSeconds*ready.FailureThreshold, delay)
	}

	// Locked down.
	sc := c.SecurityContext
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot ||
		pod.SecurityContext.RunAsUser == nil || *pod.SecurityContext.RunAsUser == 0 ||
		sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Error("the facade must run non-root, read-only, without privilege escalation, with every capability dropped")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Error("CPU and memory requests and a memory limit are set from the benchmark")
	}
	if a := d.Spec.Template.Annotations; a["prometheus.io/scrape"] != "true" || a["prometheus.io/path"] != "/metrics" || a["prometheus.io/port"] != vars["PORT"] {
		t.Error("the scrape annotations do not point at the facade's /metrics")
	}
}

func TestDisruptionBudgetAndAutoscaler(t *testing.T) {
	objs := manifests(t)
	d := find[*appsv1.Deployment](t, objs, "koodrive-facade")
	pdb := find[*policyv1.PodDisruptionBudget](t, objs, "koodrive-facade")
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 || !mapsEqual(pdb.Spec.Selector.MatchLabels, d.Spec.Selector.MatchLabels) {
		t.Error("the PodDisruptionBudget must allow at most one of the facade's pods down")
	}
	hpa := find[*autoscalingv2.HorizontalPodAutoscaler](t, objs, "koodrive-facade")
	ref := hpa.Spec.ScaleTargetRef
	if ref.Kind != "Deployment" || ref.Name != d.Name || hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas != *d.Spec.Replicas ||
		len(hpa.Spec.Metrics) != 1 || hpa.Spec.Metrics[0].Resource == nil || hpa.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU {
		t.Error("the autoscaler must scale the facade's Deployment on CPU, from its 3 replicas")
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
