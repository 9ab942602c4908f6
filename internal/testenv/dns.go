package testenv

import (
	"net"

	"golang.org/x/net/dns/dnsmessage"
)

// ServeDNS answers DNS queries on pc until it is closed: every A question
// gets answer() (called per query, so a test may change it), any other
// question an empty answer. seen, if set, is called once per datagram
// received. The stand-ins' resolution tests use it as their loopback
// resolver.
func ServeDNS(pc net.PacketConn, answer func() [4]byte, seen func()) {
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if seen != nil {
			seen()
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil {
			continue
		}
		q, err := p.Question()
		if err != nil {
			continue
		}
		b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true})
		b.EnableCompression()
		b.StartQuestions()
		b.Question(q)
		b.StartAnswers()
		if q.Type == dnsmessage.TypeA {
			b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: answer()})
		}
		if resp, err := b.Finish(); err == nil {
			pc.WriteTo(resp, from)
		}
	}
}
