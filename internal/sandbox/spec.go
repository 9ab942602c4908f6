package sandbox

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"github.com/containerd/containerd/v2/contrib/seccomp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Limits are the cgroup and tmpfs bounds of one run.
type Limits struct {
	// CPUs is the CPU quota in CPUs (1 = one full CPU).
	CPUs float64
	// MemoryBytes bounds memory (swap included).
	MemoryBytes int64
	// Pids bounds the processes and threads of the container.
	Pids int64
	// DiskBytes bounds everything the container writes: the overlay's
	// upper directory lives on a tmpfs of this size.
	DiskBytes int64
}

// DefaultLimits are the bounds a run gets unless told otherwise.
var DefaultLimits = Limits{CPUs: 1, MemoryBytes: 512 << 20, Pids: 128, DiskBytes: 64 << 20}

// startCommand is what a container runtime runs for cf: ENTRYPOINT then
// CMD (Docker's rule), with /bin/sh as the fallback of an image that has
// neither.
func startCommand(cf *v1.ConfigFile) []string {
	var args []string
	if cf != nil {
		args = append(append(args, cf.Config.Entrypoint...), cf.Config.Cmd...)
	}
	if len(args) == 0 {
		args = []string{"/bin/sh"}
	}
	return args
}

// healthcheckCommand turns a HEALTHCHECK test into argv (nil for none).
func healthcheckCommand(cf *v1.ConfigFile) []string {
	if cf == nil || cf.Config.Healthcheck == nil || len(cf.Config.Healthcheck.Test) < 2 {
		return nil
	}
	t := cf.Config.Healthcheck.Test
	switch t[0] {
	case "CMD":
		return t[1:]
	case "CMD-SHELL":
		return []string{"/bin/sh", "-c", strings.Join(t[1:], " ")}
	}
	return nil
}

// runtimeSpec is the OCI runtime spec of a sealed run: new pid, mount, ipc,
// uts, network and cgroup namespaces; no capabilities; no_new_privileges;
// containerd's default seccomp profile (the one Docker and BuildKit apply);
// runc's masked and read-only /proc paths; /sys read-only; the resolver's
// resolv.conf bound read-only; cgroup limits on CPU, memory and pids.
func runtimeSpec(rootDir, resolvConf, cgroupsPath string, cf *v1.ConfigFile, args []string, lim Limits) *specs.Spec {
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cwd := "/"
	user := ""
	if cf != nil {
		if len(cf.Config.Env) > 0 {
			env = cf.Config.Env
		}
		if cf.Config.WorkingDir != "" {
			cwd = cf.Config.WorkingDir
		}
		user = cf.Config.User
	}
	uid, gid := resolveUser(rootDir, user)
	period := uint64(100_000)
	quota := int64(lim.CPUs * float64(period))
	mem, pids := lim.MemoryBytes, lim.Pids
	noCaps := &specs.LinuxCapabilities{Bounding: []string{}, Effective: []string{}, Inheritable: []string{}, Permitted: []string{}, Ambient: []string{}}
	s := &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			Args: args, Env: env, Cwd: cwd,
			User:            specs.User{UID: uid, GID: gid},
			Capabilities:    noCaps,
			NoNewPrivileges: true,
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}, {Type: "RLIMIT_CORE", Hard: 0, Soft: 0}},
		},
		Root:     &specs.Root{Path: rootDir},
		Hostname: "sandbox",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=16m"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/etc/resolv.conf", Type: "bind", Source: resolvConf, Options: []string{"rbind", "ro", "nosuid", "nodev", "noexec"}},
		},
		Linux: &specs.Linux{
			CgroupsPath: cgroupsPath,
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace}, {Type: specs.CgroupNamespace},
			},
			Resources: &specs.LinuxResources{
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
				Memory:  &specs.LinuxMemory{Limit: &mem, Swap: &mem},
				CPU:     &specs.LinuxCPU{Period: &period, Quota: &quota},
				Pids:    &specs.LinuxPids{Limit: &pids},
			},
			MaskedPaths: []string{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
				"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi", "/sys/devices/virtual/powercap"},
			ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
	s.Linux.Seccomp = seccomp.DefaultProfile(s)
	return s
}

// resolveUser turns a config User ("name", "uid", "name:group",
// "uid:gid") into numbers through the image's own /etc/passwd and
// /etc/group; anything unknown runs as nobody (65534), never as root.
func resolveUser(rootDir, user string) (uint32, uint32) {
	if user == "" {
		return 0, 0
	}
	name, group, hasGroup := strings.Cut(user, ":")
	// Read through an os.Root: /etc/passwd may be a link meant to leave it.
	root, err := os.OpenRoot(rootDir)
	if err != nil {
		return 65534, 65534
	}
	defer root.Close()
	uid, gid, ok := lookupID(root, "etc/passwd", name, 2, 3)
	if !ok {
		return 65534, 65534
	}
	if hasGroup {
		if g, _, ok := lookupID(root, "etc/group", group, 2, 2); ok {
			gid = g
		} else {
			gid = 65534
		}
	}
	return uid, gid
}

// lookupID finds name (or a number) in a passwd-style file and returns
// fields idField and gidField.
func lookupID(root *os.Root, file, name string, idField, gidField int) (uint32, uint32, bool) {
	if n, err := strconv.ParseUint(name, 10, 32); err == nil {
		id := uint32(n)
		gid := id
		if f, err := root.Open(file); err == nil {
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				fs := strings.Split(sc.Text(), ":")
				if len(fs) > gidField && fs[idField] == name {
					if g, err := strconv.ParseUint(fs[gidField], 10, 32); err == nil {
						gid = uint32(g)
					}
				}
			}
		}
		return id, gid, true
	}
	f, err := root.Open(file)
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), ":")
		if len(fs) <= gidField || fs[0] != name {
			continue
		}
		id, err1 := strconv.ParseUint(fs[idField], 10, 32)
		gid, err2 := strconv.ParseUint(fs[gidField], 10, 32)
		if err1 == nil && err2 == nil {
			return uint32(id), uint32(gid), true
		}
	}
	return 0, 0, false
}
