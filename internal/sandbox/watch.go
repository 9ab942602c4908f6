package sandbox

import (
	"bufio"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// cgroupFile is the path of a cgroup control file of the container, for
// cgroup v2 (one hierarchy) or v1 (one per controller).
func (r *run) cgroupFile(controller, file string) string {
	if cgroupV2() {
		return filepath.Join("/sys/fs/cgroup", r.cgroup, file)
	}
	return filepath.Join("/sys/fs/cgroup", controller, r.cgroup, file)
}

// cgroupV2 reports whether /sys/fs/cgroup is the unified (v2) hierarchy.
func cgroupV2() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// pids are the processes in the container's cgroup now.
func (r *run) pids() []int {
	b, err := os.ReadFile(r.cgroupFile("pids", "cgroup.procs"))
	if err != nil {
		return nil
	}
	var ps []int
	for _, f := range strings.Fields(string(b)) {
		if p, err := strconv.Atoi(f); err == nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// exeOf is the executable of a container process as a path inside the
// container (the host sees it under the overlay's mount point).
func (r *run) exeOf(pid int) string {
	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return ""
	}
	exe = strings.TrimSuffix(exe, " (deleted)")
	if rel, ok := strings.CutPrefix(exe, filepath.Join(r.work, "merged")); ok {
		return "/" + strings.TrimPrefix(rel, "/")
	}
	return exe
}

// poll records every process in the cgroup not seen before (a process
// that exec-s something else is seen again under its new argv).
func (r *run) poll(seen map[string]bool) {
	for _, pid := range r.pids() {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil || len(b) == 0 {
			continue
		}
		argv := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
		key := strconv.Itoa(pid) + "\x00" + string(b)
		if seen[key] {
			continue
		}
		seen[key] = true
		p := Process{PID: pid, Exe: r.exeOf(pid), Argv: argv}
		r.rec.add(func(o *Observations) bool { return appendBounded(&o.Processes, p) })
	}
}

// stats reads CPU time and the limits the cgroup hit.
func (r *run) stats() {
	var cpu float64
	if b, err := os.ReadFile(r.cgroupFile("cpuacct", "cpuacct.usage")); err == nil {
		ns, _ := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
		cpu = ns / 1e9
	} else if v, ok := keyed(r.cgroupFile("cpu", "cpu.stat"), "usage_usec"); ok {
		cpu = float64(v) / 1e6
	}
	var limits []string
	if v, ok := keyed(r.cgroupFile("pids", "pids.events"), "max"); ok && v > 0 {
		limits = append(limits, fmt.Sprintf("pids limit %d reached (%d forks refused)", r.o.limits.Pids, v))
	}
	if v, ok := keyed(r.cgroupFile("memory", "memory.events"), "oom_kill"); ok && v > 0 {
		limits = append(limits, fmt.Sprintf("memory limit %d reached (%d OOM kills)", r.o.limits.MemoryBytes, v))
	} else if v, ok := keyed(r.cgroupFile("memory", "memory.oom_control"), "oom_kill"); ok && v > 0 {
		limits = append(limits, fmt.Sprintf("memory limit %d reached (%d OOM kills)", r.o.limits.MemoryBytes, v))
	}
	r.rec.mu.Lock()
	r.rec.obs.CPUSeconds = cpu
	r.rec.obs.Limits = append(r.rec.obs.Limits, limits...)
	r.rec.mu.Unlock()
}

// keyed reads "key value" from a cgroup file.
func keyed(file, key string) (int64, bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, " "); ok && k == key {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// socketOwner finds the executable of the container process owning the
// client end of a connection (peer is its local ip:port), through the
// namespace's /proc/net/tcp and each process's socket fds.
func (r *run) socketOwner(initPID int, peer string) string {
	host, port, err := net.SplitHostPort(peer)
	if err != nil {
		return ""
	}
	ip := net.ParseIP(host).To4()
	p, _ := strconv.Atoi(port)
	if ip == nil {
		return ""
	}
	want := fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], p)
	f, err := os.Open("/proc/" + strconv.Itoa(initPID) + "/net/tcp")
	if err != nil {
		return ""
	}
	defer f.Close()
	inode := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) > 9 && fs[1] == want {
			inode = fs[9]
			break
		}
	}
	if inode == "" {
		return ""
	}
	target := "socket:[" + inode + "]"
	for _, pid := range r.pids() {
		dir := "/proc/" + strconv.Itoa(pid) + "/fd"
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if l, _ := os.Readlink(filepath.Join(dir, e.Name())); l == target {
				return r.exeOf(pid)
			}
		}
	}
	return ""
}

// collectFiles records what the container wrote: the overlay's upper
// directory (a character device 0/0 there is a deletion), and whether the
// disk bound was reached.
func (r *run) collectFiles(upper string) {
	var files []FileWrite
	filepath.WalkDir(upper, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == upper || d.IsDir() {
			return nil
		}
		rel := "/" + filepath.ToSlash(strings.TrimPrefix(p, upper+"/"))
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if rel == "/etc/resolv.conf" && fi.Size() == 0 {
			return nil // runc's mount point for the resolver's file
		}
		fw := FileWrite{Path: rel, Size: fi.Size()}
		if fi.Mode()&fs.ModeCharDevice != 0 {
			fw = FileWrite{Path: rel, Deleted: true}
		}
		files = append(files, fw)
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	var st unix.Statfs_t
	full := unix.Statfs(upper, &st) == nil && st.Bavail*uint64(st.Bsize) < 1<<20
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	for _, f := range files {
		if !appendBounded(&r.rec.obs.Files, f) {
			r.rec.obs.Dropped++
		}
	}
	if full {
		r.rec.obs.Limits = append(r.rec.obs.Limits, fmt.Sprintf("disk limit %d reached", r.o.limits.DiskBytes))
	}
}

// exes are the executables the run saw, sorted.
func (r *run) exes() []string {
	set := map[string]bool{}
	o := &r.rec.obs
	for _, p := range o.Processes {
		set[p.Exe] = true
	}
	for _, c := range o.Connections {
		set[c.Exe] = true
	}
	delete(set, "")
	var out []string
	for e := range set {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// recordInit records the start command as the container's first process
// when polling missed it (it exited within the first poll interval), with
// its executable resolved through the image's PATH.
func (r *run) recordInit(pid int) {
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	o := &r.rec.obs
	for _, p := range o.Processes {
		if p.PID == pid {
			return
		}
	}
	if len(o.Command) == 0 {
		return
	}
	var env []string
	if r.rootfs != nil && r.rootfs.Walk.Config != nil {
		env = r.rootfs.Walk.Config.Config.Env
	}
	p := Process{PID: pid, Exe: r.lookPath(o.Command[0], env), Argv: o.Command}
	if !appendBounded(&o.Processes, p) {
		o.Dropped++
	}
}

// lookPath resolves a command name like a shell would, through the PATH
// of the image's environment, in the image's final view.
func (r *run) lookPath(name string, env []string) string {
	if strings.Contains(name, "/") || r.rootfs == nil {
		return name
	}
	dirs := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			dirs = v
		}
	}
	for _, d := range strings.Split(dirs, ":") {
		if e, ok := r.rootfs.Walk.Lookup(filepath.Join(d, name)); ok && !e.Hidden {
			return filepath.Join("/", d, name)
		}
	}
	return name
}
