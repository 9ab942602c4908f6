package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// The resolver configuration the stand-in reads, and the port its loopback
// nameserver answers on; tests point both at a fake resolver.
var (
	resolvConf = "/etc/resolv.conf"
	dnsPort    = 53
)

// errNoLoopbackResolver: resolv.conf names no loopback nameserver, so a pool
// name is not looked up at all (a non-loopback resolver would send the
// query off the machine).
var errNoLoopbackResolver = errors.New("no loopback resolver")

// loopbackNameserver returns the first nameserver of path that is a
// loopback address.
func loopbackNameserver(path string) (netip.AddrPort, error) {
	f, err := os.Open(path)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w (%v)", errNoLoopbackResolver, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != "nameserver" {
			continue
		}
		if a, err := netip.ParseAddr(fields[1]); err == nil && a.Unmap().IsLoopback() {
			return netip.AddrPortFrom(a.Unmap().WithZone(""), uint16(dnsPort)), nil
		}
	}
	return netip.AddrPort{}, errNoLoopbackResolver
}

// resolvePool maps a pool host to the address to dial. A literal address
// must be loopback (nothing else is looked at); "localhost" is pinned to
// 127.0.0.1; any other name is resolved only through resolv.conf's loopback
// nameserver (every query goes to it, none elsewhere) and accepted only if
// every answer is loopback. So the stand-in talks to whatever it is pointed
// at on loopback (a sandbox's resolver answers 127.x), and to nothing else.
func resolvePool(ctx context.Context, host string) (netip.Addr, error) {
	h := strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if a, err := loopbackAddr(h); err == nil {
		return a, nil
	}
	if _, err := netip.ParseAddr(h); err == nil || h == "" || strings.Contains(h, "%") {
		return netip.Addr{}, fmt.Errorf("refusing pool host %q: %w", host, ErrNotLoopback)
	}
	ns, err := loopbackNameserver(resolvConf)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("refusing to resolve %s: %v: %w", host, err, ErrNotLoopback)
	}
	r := &net.Resolver{
		PreferGo:     true,
		StrictErrors: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, ns.String())
		},
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", h)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("resolve %s through %s: %w", host, ns, err)
	}
	if len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("resolve %s through %s: no address", host, ns)
	}
	for _, a := range addrs {
		if !a.Unmap().IsLoopback() {
			return netip.Addr{}, fmt.Errorf("refusing pool host %q: it resolves to %s: %w", host, a, ErrNotLoopback)
		}
	}
	return addrs[0].Unmap().WithZone(""), nil
}

// dialAddr is the host:port to dial for a resolved pool.
func dialAddr(a netip.Addr, port uint16) string {
	return net.JoinHostPort(a.String(), strconv.Itoa(int(port)))
}
