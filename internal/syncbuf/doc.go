// Package syncbuf is a bytes.Buffer that one goroutine (a child process's
// stdout or stderr copier) writes while another polls it: the gate bench's
// worker logs, the registry process's stderr, the serve tests' output.
package syncbuf
