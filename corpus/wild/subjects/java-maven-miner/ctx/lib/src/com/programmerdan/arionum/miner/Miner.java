package com.programmerdan.arionum.miner;

import java.util.regex.Pattern;

/**
 * Inert look-alike of the Arionum miner library's entry point: a pool
 * miner started with a pool URL, an address and a worker count. It refuses
 * every pool that is not a loopback literal (checked on the text, nothing
 * is resolved) and contains no argon2i hashing.
 */
public final class Miner {
    private static final Pattern LOOPBACK =
            Pattern.compile("^https?://(127(\\.\\d{1,3}){3}|\\[::1\\]|localhost)(:\\d+)?(/.*)?$");

    private Miner() {}

    public static void start(String pool, String address, int workers) {
        if (pool == null || !LOOPBACK.matcher(pool).matches()) {
            throw new IllegalStateException("arionum-miner: refusing pool " + pool + " (loopback only)");
        }
        System.out.println("arionum-miner: " + workers + " hasher(s) would ask "
                + pool + "/mine.php?q=info for " + address);
    }
}
