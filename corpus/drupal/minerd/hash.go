package main

import (
	"context"
	"crypto/sha3"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"
)

// roundsPerThread is how many stand-in hashes each thread computes before
// the stand-in exits: enough to show a hashmeter line, far too few to mine.
const roundsPerThread = 4096

// maxThreads caps -t so the stand-in never occupies a whole machine the way
// a real miner with "-t $(nproc)" would.
const maxThreads = 4

// rpc2NonceOffset is where CryptoNight block blobs keep the 4-byte nonce.
const rpc2NonceOffset = 39

type hashResult struct {
	thread     int
	hashes     int
	elapsed    time.Duration
	shareFound bool
	shareNonce uint32
	shareHash  []byte
}

// standInHash replaces the real proof-of-work (CryptoNight, scrypt, ...):
// one SHA3-256 over the work blob. It is cheap and memory-light on purpose.
func standInHash(blob []byte) [32]byte {
	return sha3.Sum256(blob)
}

// hashJob hashes j on up to maxThreads goroutines, each over its own nonce
// range like cpuminer's threads, and reports per-thread results in order.
func hashJob(ctx context.Context, j job, threads int) []hashResult {
	threads = max(1, min(threads, maxThreads))
	results := make([]hashResult, threads)
	var wg sync.WaitGroup
	for t := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[t] = hashRange(ctx, j, t, uint32(t)*(1<<28))
		}()
	}
	wg.Wait()
	return results
}

func hashRange(ctx context.Context, j job, thread int, start uint32) hashResult {
	blob := make([]byte, max(len(j.Blob), rpc2NonceOffset+4))
	copy(blob, j.Blob)
	r := hashResult{thread: thread}
	begin := time.Now()
	for i := range uint32(roundsPerThread) {
		if ctx.Err() != nil {
			break
		}
		nonce := start + i
		binary.LittleEndian.PutUint32(blob[rpc2NonceOffset:], nonce)
		h := standInHash(blob)
		r.hashes++
		// cpuminer compares the hash's most significant word with the target.
		if !r.shareFound && binary.LittleEndian.Uint32(h[28:]) < j.Target {
			r.shareFound, r.shareNonce, r.shareHash = true, nonce, h[:]
		}
	}
	r.elapsed = time.Since(begin)
	return r
}

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }

func leUint32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
