package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// maxImageBytes is the image size target.
const maxImageBytes = 25 << 20

// requireImageTools skips the test, or fails it in CI, without podman or root (chroot).
func requireImageTools(t *testing.T) string {
	t.Helper()
	podman, err := exec.LookPath("podman")
	var missing []string
	if err != nil {
		missing = append(missing, "podman (Debian package podman)")
	}
	if os.Geteuid() != 0 {
		missing = append(missing, "root (podman image mount and chroot)")
	}
	if len(missing) == 0 {
		return podman
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI must run this test, but it lacks: %s", strings.Join(missing, ", "))
	}
	t.Skipf("lacks %s", strings.Join(missing, ", "))
	return ""
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestImage builds the image, mounts it, and runs the facade from the image's own
// filesystem as the user the image declares: /healthz and a demo query answer.
// Containers cannot start on these machines (cgroups), so chroot stands in for the
// runtime; nothing is pulled from a registry.
func TestImage(t *testing.T) {
	podman := requireImageTools(t)
	tag := fmt.Sprintf("localhost/koodrive-facade-test:%d", time.Now().UnixNano())
	build := exec.Command("bash", "build-image.sh", tag)
	build.Env = append(os.Environ(), "CONTAINER_ENGINE="+podman, "VERSION=test-1.2.3")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build-image.sh: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(podman, "image", "rm", "-f", tag).Run() })

	var inspect []struct {
		Size   int64
		Config struct {
			User         string
			Entrypoint   []string
			ExposedPorts map[string]struct{}
			Labels       map[string]string
		}
	}
	if err := json.Unmarshal([]byte(run(t, podman, "image", "inspect", tag)), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("inspect: %v", err)
	}
	img := inspect[0]
	t.Logf("image size %.1f MB", float64(img.Size)/(1<<20))
	if img.Size > maxImageBytes {
		t.Errorf("image is %d bytes, over %d", img.Size, maxImageBytes)
	}
	if img.Config.User != "65532:65532" || !slices.Equal(img.Config.Entrypoint, []string{"/facade"}) {
		t.Errorf("user %q, entrypoint %v; want 65532:65532 and /facade", img.Config.User, img.Config.Entrypoint)
	}
	if _, ok := img.Config.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("exposed ports %v, want 8080/tcp", img.Config.ExposedPorts)
	}
	for _, label := range []string{"source", "version", "licenses"} {
		if img.Config.Labels["org.opencontainers.image."+label] == "" {
			t.Errorf("no OCI label %s", label)
		}
	}
	if v := img.Config.Labels["org.opencontainers.image.version"]; v != "test-1.2.3" {
		t.Errorf("version label %q, want the stamped test-1.2.3", v)
	}

	root := run(t, podman, "image", "mount", tag)
	t.Cleanup(func() { _ = exec.Command(podman, "image", "unmount", tag).Run() })
	var files []string
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, strings.TrimPrefix(path, root))
		}
		return nil
	})
	slices.Sort(files)
	if want := []string{"/etc/ssl/certs/ca-certificates.crt", "/facade"}; !slices.Equal(files, want) {
		t.Errorf("image files %v, want only %v (no shell, no package manager)", files, want)
	}

	port := freePort(t)
	uid, gid, _ := strings.Cut(img.Config.User, ":")
	var logs bytes.Buffer
	cmd := exec.Command("chroot", "--userspec="+uid+":"+gid, root, "/facade")
	cmd.Env = []string{"PORT=" + port, "LOG_FORMAT=json"}
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	base := "http://127.0.0.1:" + port
	var healthy bool
	for deadline := time.Now().Add(20 * time.Second); !healthy && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			t.Fatalf("the facade exited:\n%s", logs.String())
		default:
		}
		if resp, err := client.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			healthy = resp.StatusCode == http.StatusOK
		}
	}
	if !healthy {
		t.Fatalf("/healthz did not answer 200 within 20 s:\n%s", logs.String())
	}
	resp, err := client.Post(base+"/query", "application/json", strings.NewReader(`{"query":"{ viewer { name } userGroups(first: 2) { nodes { name owner { name } } } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"viewer":{"name":`)) || bytes.Contains(body, []byte(`"errors"`)) {
		t.Fatalf("demo query: %d %s", resp.StatusCode, body)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "Uid:") && strings.Fields(line)[1] != uid {
			t.Fatalf("the facade runs as %s, want uid %s", line, uid)
		}
	}
	if !strings.Contains(logs.String(), `"version":"test-1.2.3"`) {
		t.Errorf("the binary is not stamped with its version:\n%s", logs.String())
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
