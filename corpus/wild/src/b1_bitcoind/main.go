// Command bitcoind is a look-alike of Bitcoin Core's daemon and CLI for the
// wild corpus: it reads bitcoin.conf, prints the version and the usage text,
// and exits. It never opens a socket and never touches a blockchain. The
// program answers to its name: bitcoind or bitcoin-cli.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

const version = "v25.1.0"

func main() {
	os.Exit(run(filepath.Base(os.Args[0]), os.Args[1:], os.Stdout, os.Stderr))
}

func run(name string, args []string, stdout, stderr io.Writer) int {
	opts := parseArgs(args)
	if _, ok := opts["version"]; ok {
		fmt.Fprintf(stdout, "Bitcoin Core %s version %s\n", title(name), version)
		return 0
	}
	if _, ok := opts["help"]; ok || name == "bitcoin-cli" {
		usage(name, stdout)
		return 0
	}
	conf := opts["conf"]
	if conf == "" {
		conf = filepath.Join(opts["datadir"], "bitcoin.conf")
	}
	settings, err := readConf(conf)
	if err != nil {
		fmt.Fprintf(stderr, "Error: could not read configuration file %s: %v\n", conf, err)
		return 1
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(stdout, "Bitcoin Core version %s (look-alike: no node runs here)\n", version)
	for _, k := range keys {
		if k == "rpcpassword" {
			continue
		}
		fmt.Fprintf(stdout, "Config file arg: %s=\"%s\"\n", k, settings[k])
	}
	fmt.Fprintln(stdout, "Shutdown: done")
	return 0
}

func title(name string) string {
	if name == "bitcoin-cli" {
		return "RPC client"
	}
	return "daemon"
}

// parseArgs reads -key=value and -flag options.
func parseArgs(args []string) map[string]string {
	out := map[string]string{}
	for _, a := range args {
		a = strings.TrimLeft(a, "-")
		k, v, _ := strings.Cut(a, "=")
		out[k] = v
	}
	return out
}

func readConf(p string) (map[string]string, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, sc.Err()
}

func usage(name string, w io.Writer) {
	if name == "bitcoin-cli" {
		fmt.Fprint(w, `Bitcoin Core RPC client version `+version+`

Usage:  bitcoin-cli [options] <command> [params]  Send command to Bitcoin Core
or:     bitcoin-cli [options] -named <command> [name=value]...
or:     bitcoin-cli [options] help                List commands
or:     bitcoin-cli [options] help <command>      Get help for a command

Options:
  -conf=<file>      Specify configuration file.
  -datadir=<dir>    Specify data directory
  -rpcconnect=<ip>  Send commands to node running on <ip> (default: 127.0.0.1)
  -rpcport=<port>   Connect to JSON-RPC on <port> (default: 8332)
  -rpcuser=<user>   Username for JSON-RPC connections
  -getinfo          Get general information from the remote server.
`)
		return
	}
	fmt.Fprint(w, `Bitcoin Core version `+version+`

Usage:  bitcoind [options]                     Start Bitcoin Core

Options:
  -conf=<file>       Specify path to read-only configuration file.
  -datadir=<dir>     Specify data directory
  -dbcache=<n>       Maximum database cache size <n> MiB
  -prune=<n>         Reduce storage requirements by enabling pruning of old blocks.
  -txindex           Maintain a full transaction index (default: 0)
  -server            Accept command line and JSON-RPC commands
  -rpcallowip=<ip>   Allow JSON-RPC connections from specified source.
  -disablewallet     Do not load the wallet and disable wallet RPC calls
`)
}
