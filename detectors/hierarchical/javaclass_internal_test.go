package hierarchical

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// classFile builds a class file whose constant pool holds the strings (as
// Utf8 constants, each referenced by a String constant) and a Long, which
// takes two pool slots; the rest of the class is a stub.
func classFile(major uint16, strs ...string) []byte {
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.BigEndian, v) }
	w(uint32(classMagic))
	w(uint16(0))
	w(major)
	w(uint16(1 + 2*len(strs) + 2)) // constant_pool_count
	for i, s := range strs {
		w(uint8(1))
		w(uint16(len(s)))
		b.WriteString(s)
		w(uint8(8))
		w(uint16(2*i + 1))
	}
	w(uint8(5))
	w(uint64(45560))
	b.Write([]byte{0x00, 0x21, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) // flags, this, super, counts
	return b.Bytes()
}

// TestJavaClassConstants: a stratum client compiled to bytecode reads like
// its source; a class that only shares words with it stays quiet, and a
// truncated pool is read as raw bytes.
func TestJavaClassConstants(t *testing.T) {
	cryptoNote := []string{"login", "getjob", "submit", "job_id", "keepalived", "com/example/pool/Client", "java/lang/Object"}
	truncated := classFile(52, "stratum+tcp://pool.supportxmr.com:3333", "mining.subscribe", "mining.authorize")
	truncated = truncated[:len(truncated)-30]
	tests := []struct {
		name, path string
		body       []byte
		rule       string
		want       bool
	}{
		{"CryptoNote stratum client class", "app.jar!com/example/pool/Client.class", classFile(55, cryptoNote...), RuleStratumSource, true},
		{"Bitcoin stratum client class (Kotlin)", "StratumKt.class", classFile(61, "mining.subscribe", "mining.authorize", "mining.notify"), RuleStratumSource, true},
		{"pool URL in a class", "Main.class", classFile(52, "stratum+tcp://pool.supportxmr.com:3333"), RuleStratumURL, true},
		{"web app login and submit", "LoginServlet.class", classFile(52, "login", "submit", "username", "password", "javax/servlet/http/HttpServlet"), RuleStratumSource, false},
		{"one stratum word", "Docs.class", classFile(52, "mining.subscribe", "see the protocol docs"), RuleStratumSource, false},
		{"truncated pool is read raw", "Broken.class", truncated, RuleStratumURL, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := analyzeBytes(t, tt.path, 0o644, tt.body)
			if _, ok := hitOf(fr, tt.rule); ok != tt.want {
				t.Errorf("%s fired = %v, want %v; hits %+v", tt.rule, ok, tt.want, fr.hits)
			}
		})
	}
}

func TestClassConstants(t *testing.T) {
	got, err := classConstants(classFile(52, "a", "bc", "stratum"))
	if err != nil || strings.Join(got, ",") != "a,bc,stratum" {
		t.Errorf("classConstants = %q, %v", got, err)
	}
	b := classFile(52, "a")
	b[10] = 99 // an unknown tag
	if _, err := classConstants(b); err == nil {
		t.Error("unknown tag accepted")
	}
	if isJavaClass("x.class", []byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2, 0, 0}) || !isJavaClass("X.CLASS", classFile(45)) || isJavaClass("x.bin", classFile(52)) {
		t.Error("isJavaClass")
	}
}
